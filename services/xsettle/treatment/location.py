"""The treatment location (就医地) as a message handler: hospital claim bytes in.

It validates the claim (checks 1–2), splits it by its catalog and forwards a
normalised request keyed by person, or answers at once with a rejection. No Kafka
here; the faust app moves the bytes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..engine import Catalog, CatalogIndex, Reason, Result, ReverseEvent, SettleEvent, normalise
from ..engine.claims import ManualEvent
from ..engine.events import Unreadable, read_event
from ..engine.results import rejected
from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.deadletter import Origin
from ..exchange.contract.inbound import decode_event, key_problem, person_of, request_id_of
from ..exchange.contract.records import (
    claim_to_event,
    result_record,
    reverse_request,
    settle_request,
)

SERVICE = "treatment"


@dataclass(frozen=True, slots=True)
class Forward:
    """A request for the insured location, keyed by person."""

    person_id: str
    claim_id: str
    request: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Answer:
    """A result the treatment location gives itself (checks 1–2, unknown reversals)."""

    key: str | None
    result: dict[str, Any]


class TreatmentLocation:
    def __init__(
        self,
        catalogs: list[Catalog],
        insured_region_of: Callable[[str], str | None],
        claims: AvroCodec,
    ) -> None:
        self.catalogs = CatalogIndex(catalogs)
        self.insured_region_of = insured_region_of
        self.claims = claims

    def handle(self, payload: bytes, origin: Origin, received: datetime) -> Forward | Answer:
        """Validate and split one claim; raises DecodeError for bytes that are no claim.

        ``received`` is the message's own timestamp, so a redelivered claim is
        forwarded, or answered, exactly as the first time.
        """
        raw = decode_event(payload, self.claims, claim_to_event)
        request_id = request_id_of(raw, origin)
        try:
            event = read_event(raw)
        except Unreadable as unreadable:
            assert isinstance(unreadable.answer, Result), "claims are answered as claims"
            return self._answer(unreadable.answer, request_id, person_of(raw), received)
        problem = key_problem(origin.key, event.person_id)
        if not isinstance(event, SettleEvent | ReverseEvent) or isinstance(event, ManualEvent):
            problem = f"kind: {event.kind} is the insured side's: send it to the person-event topic"
        if problem is not None:
            claim_id = getattr(event, "claim_id", None)
            result = rejected(claim_id, Reason.INVALID_CLAIM, problem)
            return self._answer(result, request_id, person_of(raw), received)
        if isinstance(event, ReverseEvent):
            return Forward(
                event.person_id,
                event.claim_id,
                reverse_request(event.claim_id, event.person_id, request_id, received),
            )
        detail = normalise(event, self.catalogs)
        if isinstance(detail, Result):
            return self._answer(
                detail,
                request_id,
                event.person_id,
                received,
                event.treatment_region,
                event.medical_type,
            )
        request = settle_request(
            detail, request_id, self.insured_region_of(event.person_id), received
        )
        return Forward(event.person_id, event.claim_id, request)

    def _answer(
        self,
        result: Result,
        request_id: str,
        person_id: str | None,
        received: datetime,
        treatment_region: str | None = None,
        medical_type: str | None = None,
    ) -> Answer:
        """The treatment location's own answer (checks 1–2), decided on receipt."""
        record = result_record(
            result,
            request_id=request_id,
            person_id=person_id,
            insured_region=self.insured_region_of(person_id) if person_id else None,
            submitted_at=received,
            treatment_region=treatment_region,
            medical_type=medical_type,
        )
        return Answer(person_id, record)
