"""The treatment-location service (就医地) as a faust app.

Hospital claims come in keyed by person; requests go out keyed by person; results
come back and close each claim in the claim register, queryable at
``/claims/{person_id}/{claim_id}`` (routed to the worker holding the person's
partition). The register is partitioned like the topics, by person.
"""

from datetime import UTC, datetime

import faust
from faust.web import Request, Response, View

from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.deadletter import Origin
from ..exchange.contract.inbound import bounded
from ..exchange.contract.registry import registry_from_env
from ..exchange.contract.topics import Topics
from ..exchange.runtime.agent_loop import AgentLoop, Outbox, Status
from ..exchange.runtime.faust_app import make_app, raw_topic
from ..exchange.runtime.health import add_health
from ..exchange.runtime.tables import Rows, versioned_table
from ..reference import load_reference
from ..settings import Settings
from .location import SERVICE, Answer, TreatmentLocation
from .register import ClaimRegister, Entry, entry_version

BATCH = 500
"""Claims taken per batch: large enough to amortise, small enough for latency."""


def build(settings: Settings) -> faust.App:
    app = make_app(SERVICE, settings)
    registry = registry_from_env(settings)
    topics = Topics(settings.namespace)
    status = Status()
    reference = load_reference(settings)
    regions = {person.person_id: person.insured_region for person in reference.persons}
    location = TreatmentLocation(
        list(reference.catalogs), regions.get, AvroCodec("hospital_claim", registry)
    )
    request_codec = AvroCodec("settlement_request", registry)
    result_codec = AvroCodec("settlement_result", registry)
    claims = raw_topic(app, topics.claims, partitions=settings.partitions)
    requests = raw_topic(app, topics.requests, partitions=settings.partitions)
    results = raw_topic(app, topics.results, partitions=settings.partitions)
    dead_letters = (
        raw_topic(app, topics.dead_letters, partitions=settings.partitions),
        AvroCodec("dead_letter", registry),
    )
    # Keyed by (person, claim); without use_partitioner a row's changelog record goes
    # to the partition of the message that wrote it: its person's partition.
    # Each agent stages its own rows: a batch is handled and written without yielding
    # to the other agent, so neither ever writes the other's half-done batch.
    table = versioned_table(
        app, "claims", entry_version, key_type=bytes, partitions=settings.partitions
    )
    submissions: Rows[Entry] = Rows(table)
    closings: Rows[Entry] = Rows(table)
    register = ClaimRegister(table)
    intake_loop = AgentLoop(app, SERVICE, status, dead_letters, [submissions])
    closing_loop = AgentLoop(app, SERVICE, status, dead_letters, [closings])

    def take_claim(event: faust.EventT, origin: Origin, outbox: Outbox) -> None:
        received = datetime.fromtimestamp(event.message.timestamp, UTC)
        outcome = location.handle(event.message.value, origin, received)
        if isinstance(outcome, Answer):
            key = outcome.key.encode() if outcome.key else bounded(origin.key)
            outbox.send(results, key, result_codec.encode(outcome.result))
            return
        request_id = outcome.request["request_id"]
        if register.submitted(submissions, outcome.person_id, outcome.claim_id, request_id, event):
            status.count_redelivery()
        outbox.send(requests, outcome.person_id.encode(), request_codec.encode(outcome.request))

    def close_claim(event: faust.EventT, origin: Origin, outbox: Outbox) -> None:
        register.closed(closings, result_codec.decode(event.message.value), event)

    @app.agent(claims)
    async def intake(stream: faust.StreamT) -> None:
        await intake_loop.consume(stream, take_claim, BATCH)

    @app.agent(results)
    async def close_claims(stream: faust.StreamT) -> None:
        await closing_loop.consume(stream, close_claim, BATCH)

    @app.page("/claims/{person_id}/{claim_id}")
    class ClaimState(View):
        @app.table_route(table=table, match_info="person_id")
        async def get(self, request: Request, person_id: str, claim_id: str) -> Response:
            entry = register.lookup(person_id, claim_id)
            if entry is None:
                return self.json(
                    {"person_id": person_id, "claim_id": claim_id, "error": "unknown claim"},
                    status=404,
                )
            return self.json(entry)

    add_health(app, status, settings.require_bootstrap("a worker"))
    return app
