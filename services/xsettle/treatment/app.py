"""The treatment-location service (就医地) as a faust app.

Hospital claims come in keyed by person; requests go out keyed by person; results
come back and close each claim in the claim register, queryable at
``/claims/{claim_id}``. The register is partitioned like the topics (by person), so
a claim's record lives with its person's partition.
"""

from typing import Any

import faust
from faust.web import Request, Response, View

from ..exchange.codec import AvroCodec, DecodeError
from ..exchange.deadletter import Origin, dead_letter
from ..exchange.faust_app import make_app, raw_topic
from ..exchange.health import add_health
from ..exchange.registry import registry_from_env
from ..exchange.topics import Topics
from ..reference import load_reference
from ..settings import Settings
from .location import SERVICE, Answer, Forward, TreatmentLocation, Undecodable


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
    dead_codec = AvroCodec("dead_letter", registry)
    claims = raw_topic(app, topics.claims, settings.partitions)
    requests = raw_topic(app, topics.requests, settings.partitions)
    results = raw_topic(app, topics.results, settings.partitions)
    dead_letters = raw_topic(app, topics.dead_letters, settings.partitions)
    register = app.Table("claims", partitions=settings.partitions)

    def owner(claim_id: str) -> str | None:
        entry = register.get(claim_id)
        return entry["person_id"] if entry else None

    @app.agent(claims)
    async def intake(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            origin = Origin(message.topic, message.partition, message.offset, message.key)
            outcome = location.handle(message.value, origin, owner)
            if isinstance(outcome, Undecodable):
                dead_letters.send_soon(
                    key=message.topic.encode(), value=dead_codec.encode(outcome.dead_letter)
                )
            elif isinstance(outcome, Answer):
                key = outcome.key.encode() if outcome.key else None
                results.send_soon(key=key, value=result_codec.encode(outcome.result))
            else:
                _submit(register, outcome)
                requests.send_soon(
                    key=outcome.person_id.encode(), value=request_codec.encode(outcome.request)
                )

    @app.agent(results)
    async def close_claims(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            try:
                result = result_codec.decode(message.value)
            except DecodeError as error:
                origin = Origin(message.topic, message.partition, message.offset, message.key)
                dead_letters.send_soon(
                    key=message.topic.encode(),
                    value=dead_codec.encode(
                        dead_letter(origin, message.value, str(error), SERVICE)
                    ),
                )
                continue
            if result["claim_id"]:
                register[result["claim_id"]] = _closed(register.get(result["claim_id"]), result)

    @app.page("/claims/{claim_id}")
    class ClaimState(View):
        async def get(self, request: Request, claim_id: str) -> Response:
            entry = register.get(claim_id)
            if entry is None:
                return self.json({"claim_id": claim_id, "error": "unknown claim"}, status=404)
            return self.json({"claim_id": claim_id, **entry})

    add_health(app)
    return app


def _submit(register: Any, forward: Forward) -> None:
    entry = dict(register.get(forward.claim_id) or {})
    entry.update(
        person_id=forward.person_id, state="SUBMITTED", request_id=forward.request["request_id"]
    )
    register[forward.claim_id] = entry


def _closed(entry: dict[str, Any] | None, result: dict[str, Any]) -> dict[str, Any]:
    """The claim's state after a result: who pays what (the patient pays ``psn_cash_pay``).

    A rejected attempt on a claim that is settled or reversed (a late duplicate, a
    second reversal) is noted but does not change the claim's state.
    """
    closed = dict(entry or {})
    closed["person_id"] = result["person_id"] or closed.get("person_id")
    closed["closed_at"] = result["settled_at"].isoformat()
    if result["status"] == "REJECTED":
        closed["last_rejection"] = result["reason"]
        if closed.get("state") in ("SETTLED", "REVERSED"):
            return closed
    amounts = result["amounts"] or {}
    closed.update(
        state=result["status"],
        result_id=result["result_id"],
        reason=result["reason"],
        psn_cash_pay=str(amounts["psn_cash_pay"]) if amounts else None,
        fund_pay_sumamt=str(amounts["fund_pay_sumamt"]) if amounts else None,
    )
    return closed
