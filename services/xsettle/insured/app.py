"""The insured-location service (参保地) as a faust app.

Requests arrive keyed by person; each person's ledger lives in a changelog-backed
table partitioned like the requests, so a restarted or rebalanced worker recovers it.
"""

import faust

from ..exchange import ledger_codec
from ..exchange.codec import AvroCodec
from ..exchange.deadletter import DeadLetters, Origin
from ..exchange.faust_app import make_app, raw_topic
from ..exchange.health import add_health
from ..exchange.records import ITEMISED
from ..exchange.registry import registry_from_env
from ..exchange.topics import Topics
from ..reference import load_reference
from ..settings import Settings
from .ledgers import LedgerBook
from .location import SERVICE, InsuredLocation, Undecodable

BATCH = 500
"""Requests taken per batch: large enough to amortise, small enough for latency."""


def build(settings: Settings) -> faust.App:
    app = make_app("insured", settings)
    registry = registry_from_env()
    topics = Topics(settings.namespace)
    location = InsuredLocation(
        load_reference(settings).directory(),
        AvroCodec("settlement_request", registry, skip=ITEMISED),
    )
    result_codec = AvroCodec("settlement_result", registry)
    requests = raw_topic(app, topics.requests, settings.partitions)
    results = raw_topic(app, topics.results, settings.partitions)
    dead = DeadLetters(
        raw_topic(app, topics.dead_letters, settings.partitions),
        AvroCodec("dead_letter", registry),
        SERVICE,
    )
    # Keyed by person bytes and placed by the producer's partitioner, exactly like the
    # topics, so a row's changelog partition is its person's partition even in batches.
    book = LedgerBook(
        app.Table(
            "ledgers",
            key_type=bytes,
            value_type=ledger_codec.LedgerValue,
            partitions=settings.partitions,
            use_partitioner=True,
        )
    )

    @app.agent(requests)
    async def settle_requests(stream: faust.StreamT) -> None:
        async for events in stream.take_events(BATCH, within=0.01):
            for event in events:
                message = event.message
                origin = Origin(message.topic, message.partition, message.offset, message.key)
                try:
                    outcome = location.handle(message.value, origin, book.get)
                    if isinstance(outcome, Undecodable):
                        dead.post(outcome.dead_letter)
                        continue
                    result = result_codec.encode(outcome.result)
                    if outcome.ledger is not None:
                        book.put(outcome.person_id, outcome.ledger, event)
                    results.send_soon(key=outcome.person_id.encode(), value=result)
                except Exception as error:
                    dead.failed(origin, message.value, error)
            book.flush()

    add_health(app)
    return app
