"""``/health`` and ``/ready`` for every worker: what drivers and orchestrators poll.

Ready means the worker can make progress: it holds partitions, has recovered its
tables, reaches the broker and is not stuck retrying a dependency. A worker whose
broker died keeps answering ``/health`` (it is alive) but not ``/ready``.
"""

import asyncio
from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted
from faust.web import Request, Response, View

from .agent_loop import Status

BROKER_PROBE_SECONDS = 2.0
"""How often a worker checks that some bootstrap server accepts a connection."""


def add_health(app: faust.App, status: Status, bootstrap: str) -> None:
    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"service": app.conf.id, "status": "up"})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            state = readiness(app, status)
            return self.json(state, status=200 if state["ready"] else 503)

    servers = [server.rsplit(":", 1) for server in bootstrap.split(",")]

    @app.timer(BROKER_PROBE_SECONDS)
    async def probe_broker() -> None:
        status.broker_reachable = any([await _accepts(host, int(port)) for host, port in servers])


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


def readiness(app: faust.App, status: Status) -> dict[str, Any]:
    try:
        assigned = app.consumer.assignment() if app.consumer else set()
    except ConsumerNotStarted:  # the web server comes up before the consumer thread
        assigned = set()
    recovered = app.tables.recovery.completed.is_set()
    ready = (
        bool(assigned)
        and recovered
        and not app.rebalancing
        and status.broker_reachable
        and status.stalled is None
    )
    return {
        "ready": ready,
        "partitions": len(assigned),
        "recovered": recovered,
        "rebalancing": app.rebalancing,
        "broker_reachable": status.broker_reachable,
        "stalled": status.stalled,
        "redelivered": status.redelivered,
    }
