"""The treatment location (就医地) as a message handler: hospital claim bytes in.

It validates the claim (checks 1–2), splits it by its catalog and forwards a
normalised request keyed by person, or answers at once with a rejection. No Kafka
here; the faust app moves the bytes.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..engine import (
    Catalog,
    CatalogIndex,
    InvalidClaim,
    Reason,
    Result,
    ReverseEvent,
    normalise,
    parse_event,
)
from ..engine.claims import ID_LIMIT
from ..engine.errors import shown
from ..engine.results import rejected
from ..exchange.codec import AvroCodec, DecodeError, looks_like_avro
from ..exchange.deadletter import Origin
from ..exchange.records import claim_to_event, result_record, reverse_request, settle_request

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

    def decode(self, payload: bytes) -> Any:
        """A hospital claim as an event dict: Avro when framed as Avro, else JSON."""
        if looks_like_avro(payload):
            return claim_to_event(self.claims.decode(payload))
        try:
            return json.loads(payload, parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise DecodeError(f"neither Avro nor JSON: {error}") from None

    def handle(self, payload: bytes, origin: Origin, received: datetime) -> Forward | Answer:
        """Validate and split one claim; raises DecodeError for bytes that are no claim.

        ``received`` is the message's own timestamp, so a redelivered claim is
        forwarded, or answered, exactly as the first time.
        """
        raw = self.decode(payload)
        request_id = _request_id(raw, origin)
        try:
            event = parse_event(raw)
            _check_key(origin.key, event.person_id, event.claim_id)
        except InvalidClaim as invalid:
            person = raw.get("person_id") if isinstance(raw, dict) else None
            person = person if isinstance(person, str) and 0 < len(person) <= ID_LIMIT else None
            result = rejected(invalid.claim_id, Reason.INVALID_CLAIM, invalid.message)
            return self._answer(result, request_id, person, received)
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
        """The treatment location's own answer (checks 1–2): decided on receipt, so
        ``settled_at`` is the receipt time and a redelivery gives the same record."""
        record = result_record(
            result,
            request_id=request_id,
            generation=0,
            person_id=person_id,
            insured_region=self.insured_region_of(person_id) if person_id else None,
            treatment_region=treatment_region,
            medical_type=medical_type,
            submitted_at=received,
            settled_at=received,
        )
        return Answer(person_id, record)


def bounded(key: bytes | None) -> bytes | None:
    """A message key fit to echo on an answer: a key longer than any id is dropped."""
    return key if key is None or len(key) <= ID_LIMIT else None


def _check_key(key: bytes | None, person_id: str, claim_id: str) -> None:
    """A claim is keyed by its person: that key is what keeps a person's events in order."""
    if key is None:
        raise InvalidClaim(claim_id, "key: a claim must be keyed by its person_id; it has no key")
    try:
        text = key.decode()
    except UnicodeDecodeError:
        raise InvalidClaim(
            claim_id, "key: must be the person_id in UTF-8; it is not UTF-8"
        ) from None
    if text != person_id:
        raise InvalidClaim(
            claim_id, f"key: must be the person_id {shown(person_id)}, not {shown(text)}"
        )


def _request_id(raw: Any, origin: Origin) -> str:
    """The producer's request id, else one derived from the message's position.

    Derived ids are stable across redelivery, which is what makes replays harmless.
    """
    given = raw.get("request_id") if isinstance(raw, dict) else None
    return (
        given
        if isinstance(given, str) and 0 < len(given) <= ID_LIMIT
        else f"{origin.topic}/{origin.partition}/{origin.offset}"
    )
