"""``/health`` and ``/ready`` for every worker: what drivers and orchestrators poll.

Ready means the worker holds partitions and has recovered its tables, so a request
sent now is answered without a recovery pause.
"""

from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted
from faust.web import Request, Response, View


def add_health(app: faust.App) -> None:
    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"service": app.conf.id, "status": "up"})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            state = readiness(app)
            return self.json(state, status=200 if state["ready"] else 503)


def readiness(app: faust.App) -> dict[str, Any]:
    try:
        assigned = app.consumer.assignment() if app.consumer else set()
    except ConsumerNotStarted:  # the web server comes up before the consumer thread
        assigned = set()
    recovered = app.tables.recovery.completed.is_set()
    ready = bool(assigned) and recovered and not app.rebalancing
    return {
        "ready": ready,
        "partitions": len(assigned),
        "recovered": recovered,
        "rebalancing": app.rebalancing,
    }
