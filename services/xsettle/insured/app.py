"""The insured-location service (参保地) as a faust app.

Requests arrive keyed by person; each person's row (ledger and answers given) lives
in a changelog-backed table partitioned like the requests, so a restarted or
rebalanced worker recovers it. Answers go out only once the row that records them
is in the changelog (``durable_before_send``): see :mod:`xsettle.exchange.agent_loop`.
"""

import faust

from ..exchange.agent_loop import AgentLoop, Outbox, Rows, Status, versioned_table
from ..exchange.codec import AvroCodec
from ..exchange.deadletter import Origin
from ..exchange.faust_app import make_app, raw_topic
from ..exchange.health import add_health
from ..exchange.records import ITEMISED
from ..exchange.registry import registry_from_env
from ..exchange.topics import Topics
from ..reference import load_reference
from ..settings import Settings
from .location import SERVICE, InsuredLocation
from .row import LedgerRow, LedgerRowValue

BATCH = 500
"""Requests taken per batch: large enough to amortise, small enough for latency."""


def build(settings: Settings) -> faust.App:
    app = make_app(SERVICE, settings)
    registry = registry_from_env()
    topics = Topics(settings.namespace)
    status = Status()
    requests = raw_topic(app, topics.requests, settings.partitions)
    results = raw_topic(app, topics.results, settings.partitions)
    dead_letters = raw_topic(app, topics.dead_letters, settings.partitions)
    # Keyed by person bytes; without use_partitioner a row's changelog record goes to
    # the partition of the message that wrote it, which is its person's partition.
    rows: Rows[LedgerRow] = Rows(
        versioned_table(
            app,
            "ledgers",
            lambda row: row.version,
            key_type=bytes,
            value_type=LedgerRowValue,
            partitions=settings.partitions,
        )
    )
    location = InsuredLocation(
        load_reference(settings).directory(),
        AvroCodec("settlement_request", registry, skip=ITEMISED),
        AvroCodec("settlement_result", registry),
        on_redelivery=status.count_redelivery,
    )
    loop = AgentLoop(
        app,
        SERVICE,
        status,
        (dead_letters, AvroCodec("dead_letter", registry)),
        [rows],
        durable_before_send=True,
    )

    def settle_one(event: faust.EventT, origin: Origin, outbox: Outbox) -> None:
        key, result = location.handle(event.message.value, rows, event)
        outbox.send(results, key, result)

    @app.agent(requests)
    async def settle_requests(stream: faust.StreamT) -> None:
        async for events in stream.take_events(BATCH, within=0.01):
            await loop.run(events, settle_one)

    add_health(app, status, settings.bootstrap)
    return app
