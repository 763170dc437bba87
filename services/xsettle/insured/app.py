"""The insured-location service (参保地) as a faust app.

It takes settlement requests (from the treatment location) and the insured side's own
events (enrol, file, cancel_filing, manual) in one stream: both topics are keyed by
person and co-partitioned, so a person's events meet one worker and one row. Each
person's row (state and answers given) lives in a changelog-backed table partitioned
like the topics, so a restarted or rebalanced worker recovers it. Answers go out only
once the row that records them is in the changelog (``durable_before_send``): see
:mod:`xsettle.exchange.runtime.agent_loop`.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust
from faust.web import Request, Response, View

from ..engine import CatalogIndex
from ..engine.insured import Insured
from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.deadletter import Origin
from ..exchange.contract.records import ITEMISED
from ..exchange.runtime.agent_loop import Outbox
from ..exchange.runtime.faust_app import Wiring
from ..exchange.runtime.health import add_health
from ..exchange.runtime.tables import Rows, versioned_table
from ..reference import load_reference
from ..settings import Settings
from .location import SERVICE, InsuredLocation
from .queries import insured_state, person_view, settlements_view
from .row import DELTA_MAPS, PersonRow, PersonRowValue

Query = Callable[[str, Insured], dict[str, Any]]
"""A query's answer from a known person's state."""

BATCH = 500
"""Events taken per batch: large enough to amortise, small enough for latency."""


def build(settings: Settings) -> faust.App:
    wiring = Wiring.of(SERVICE, settings)
    app, registry, topics, status = wiring.app, wiring.registry, wiring.topics, wiring.status
    partitions = settings.partitions
    inputs = wiring.topic(topics.requests, topics.person_events)
    results = wiring.topic(topics.results)
    registry_results = wiring.topic(topics.registry_results)
    # Keyed by person bytes; without use_partitioner a row's changelog record goes to
    # the partition of the message that wrote it, which is its person's partition.
    table = versioned_table(
        app,
        "ledgers",
        lambda row: row.version,
        delta_maps=DELTA_MAPS,
        from_state=PersonRow.from_state,
        key_type=bytes,
        value_type=PersonRowValue,
        partitions=partitions,
    )
    rows: Rows[PersonRow] = Rows(table)
    reference = load_reference(settings)
    directory = reference.directory()
    location = InsuredLocation(
        directory,
        CatalogIndex(list(reference.catalogs)),
        {
            "settlement_request": AvroCodec("settlement_request", registry, skip=ITEMISED),
            "person_event": AvroCodec("person_event", registry),
            "settlement_result": AvroCodec("settlement_result", registry),
            "registry_result": AvroCodec("registry_result", registry),
        },
        on_redelivery=status.count_redelivery,
        partitions=partitions,
    )
    loop = wiring.loop([rows], durable_before_send=True)

    def take(event: faust.EventT, origin: Origin, outbox: Outbox) -> None:
        message = event.message
        if message.topic == topics.requests:
            reply = location.handle_request(message.value, rows, event)
        else:
            received = datetime.fromtimestamp(message.timestamp, UTC)
            reply = location.handle_person_event(message.value, origin, received, rows, event)
        outbox.send(registry_results if reply.registry else results, reply.key, reply.value)

    @app.agent(inputs)
    async def insured_events(stream: faust.StreamT) -> None:
        await loop.consume(stream, take, BATCH)

    def answer(view: View, person_id: str, render: Query) -> Response:
        """``render`` of the person's state, or 404 for a person the exchange does not know."""
        row: PersonRow | None = table.get(person_id.encode())
        insured = insured_state(person_id, row, directory)
        if insured is None:
            return view.json({"error": "unknown person"}, status=404)
        return view.json(render(person_id, insured))

    @app.page("/persons/{person_id}")
    class Person(View):
        @app.table_route(table=table, match_info="person_id")
        async def get(self, request: Request, person_id: str) -> Response:
            return answer(self, person_id, person_view)

    @app.page("/persons/{person_id}/settlements")
    class Settlements(View):
        @app.table_route(table=table, match_info="person_id")
        async def get(self, request: Request, person_id: str) -> Response:
            return answer(self, person_id, settlements_view)

    add_health(app, status, settings.require_bootstrap("a worker"))
    return app
