"""The clearing service (清算) as a faust app: ``xsettle worker clearing``.

One agent reads the result topic and the clearing control topic as one stream, so a
period closes at a definite point among the results: what came before is in its
statement, what comes after is an adjustment of the next open period (see
:mod:`xsettle.clearing.location`). Its three tables are changelog-backed and
versioned; a closed period's statement lines go out on the statement topic, keyed by
insured province, only once the period's row is in the changelog. ``GET
/clearing/{period}`` shows a period, open (running totals) or closed (its statement).
It runs as one worker: a period spans every partition.
"""

from datetime import UTC, datetime

import faust
from faust.web import Request, Response, View

from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.deadletter import Origin
from ..exchange.runtime.agent_loop import Outbox
from ..exchange.runtime.faust_app import Wiring, make_app
from ..exchange.runtime.health import add_health
from ..exchange.runtime.tables import Rows, versioned_table
from ..settings import Settings
from .location import (
    PERIOD,
    SERVICE,
    Clearing,
    LineRows,
    Row,
    statement_record,
    version_of,
)

BATCH = 500
WINDOW = 0.5
"""Seconds a batch of results gathers: no claim's answer waits for clearing, and each
batch costs about the same whatever its size (see ``agent_loop.BATCH_WINDOW``)."""


def build(settings: Settings) -> faust.App:
    # In memory whatever XSETTLE_TABLE_STORE says: a result of any partition reads the
    # period rows written by the control topic's, which a per-partition store would hide.
    app = make_app(SERVICE, settings.but(store="memory://"), answer_path=False)
    wiring = Wiring.of(SERVICE, settings, app)
    app, registry, topics, status = wiring.app, wiring.registry, wiring.topics, wiring.status
    partitions = settings.partitions
    inputs = wiring.topic(topics.results, topics.clearing_control)
    statements = wiring.topic(topics.clearing_statements)

    def table(name: str) -> faust.Table:
        return versioned_table(app, name, version_of, key_type=bytes, partitions=partitions)

    claims: Rows[Row] = Rows(table("claims"))
    lines = LineRows(table("lines"))
    periods: Rows[Row] = Rows(table("periods"))
    clearing = Clearing(claims, lines, periods)
    result_codec = AvroCodec("settlement_result", registry)
    control_codec = AvroCodec("clearing_control", registry)
    statement_codec = AvroCodec("clearing_statement", registry)
    loop = wiring.loop([claims, lines, periods], durable_before_send=True)

    def take(event: faust.EventT, origin: Origin, outbox: Outbox) -> None:
        message = event.message
        if message.topic != topics.clearing_control:
            applied = clearing.take_result(
                result_codec.decode(message.value), origin.partition, event
            )
            if applied.outcome == "redelivered":
                status.count_redelivery()
            return
        command = control_codec.decode(message.value)
        published, closed_at = clearing.close(command["period"], datetime.now(UTC), event)
        for line in published:
            record = statement_record(line, closed_at)
            outbox.send(
                statements, line["insured_province"].encode(), statement_codec.encode(record)
            )

    @app.agent(inputs)
    async def clear(stream: faust.StreamT) -> None:
        await loop.consume(stream, take, BATCH, window=WINDOW)

    @app.page("/clearing/{period}")
    class Period(View):
        async def get(self, request: Request, period: str) -> Response:
            if not PERIOD.fullmatch(period):
                return self.json({"period": period, "error": "not a period (YYYY-MM)"}, status=400)
            return self.json(clearing.view(period))

    add_health(app, status, settings.require_bootstrap("a worker"))
    return app
