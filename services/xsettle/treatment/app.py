"""The treatment-location service (就医地) as a faust app.

Hospital claims come in keyed by person; requests go out keyed by person; results
come back and close each claim in the claim register, queryable at
``/claims/{claim_id}``. The register is partitioned like the topics (by person), so
a claim's record lives with its person's partition.
"""

import faust
from faust.web import Request, Response, View

from ..exchange.codec import AvroCodec, DecodeError
from ..exchange.deadletter import DeadLetters, Origin
from ..exchange.faust_app import make_app, raw_topic
from ..exchange.health import add_health
from ..exchange.registry import registry_from_env
from ..exchange.topics import Topics
from ..reference import load_reference
from ..settings import Settings
from .location import SERVICE, Answer, TreatmentLocation, Undecodable
from .register import NO_PERSON, ClaimRegister

BATCH = 500
"""Claims taken per batch: large enough to amortise, small enough for latency."""


def build(settings: Settings) -> faust.App:
    app = make_app("treatment", settings)
    registry = registry_from_env()
    topics = Topics(settings.namespace)
    reference = load_reference(settings)
    regions = {person.person_id: person.insured_region for person in reference.persons}
    location = TreatmentLocation(
        list(reference.catalogs), regions.get, AvroCodec("hospital_claim", registry)
    )
    request_codec = AvroCodec("settlement_request", registry)
    result_codec = AvroCodec("settlement_result", registry)
    claims = raw_topic(app, topics.claims, settings.partitions)
    requests = raw_topic(app, topics.requests, settings.partitions)
    results = raw_topic(app, topics.results, settings.partitions)
    dead = DeadLetters(
        raw_topic(app, topics.dead_letters, settings.partitions),
        AvroCodec("dead_letter", registry),
        SERVICE,
    )
    # Keyed by person bytes and placed by the producer's partitioner, exactly like the
    # topics, so a row's changelog partition is its person's partition even in batches.
    register = ClaimRegister(
        app.Table("claims", key_type=bytes, partitions=settings.partitions, use_partitioner=True)
    )

    @app.agent(claims)
    async def intake(stream: faust.StreamT) -> None:
        async for events in stream.take_events(BATCH, within=0.01):
            for event in events:
                message = event.message
                origin = Origin(message.topic, message.partition, message.offset, message.key)
                try:
                    outcome = location.handle(message.value, origin, register.owner)
                    if isinstance(outcome, Undecodable):
                        dead.post(outcome.dead_letter)
                    elif isinstance(outcome, Answer):
                        key = outcome.key.encode() if outcome.key else NO_PERSON
                        results.send_soon(key=key, value=result_codec.encode(outcome.result))
                    else:
                        request = request_codec.encode(outcome.request)
                        register.submitted(
                            outcome.person_id, outcome.claim_id, outcome.request["request_id"]
                        )
                        requests.send_soon(key=outcome.person_id.encode(), value=request)
                except Exception as error:
                    dead.failed(origin, message.value, error)
            register.flush()

    @app.agent(results)
    async def close_claims(stream: faust.StreamT) -> None:
        async for events in stream.take_events(BATCH, within=0.01):
            for event in events:
                message = event.message
                origin = Origin(message.topic, message.partition, message.offset, message.key)
                try:
                    register.closed(result_codec.decode(message.value), event)
                except DecodeError as error:
                    dead.keep(origin, message.value, str(error))
                except Exception as error:
                    dead.failed(origin, message.value, error)
            register.flush()

    @app.page("/claims/{claim_id}")
    class ClaimState(View):
        async def get(self, request: Request, claim_id: str) -> Response:
            entry = register.lookup(claim_id)
            if entry is None:
                return self.json({"claim_id": claim_id, "error": "unknown claim"}, status=404)
            return self.json({"claim_id": claim_id, **entry})

    add_health(app)
    return app
