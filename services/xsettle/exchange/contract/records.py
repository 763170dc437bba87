"""Engine objects ↔ the Avro records of the wire contract (schemas/*.avsc).

The engine knows nothing of Kafka; this module is the one place that knows both.
"""

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ...engine import (
    AMOUNT_FIELDS,
    Amounts,
    FeeDetail,
    FeeSplit,
    Reason,
    Result,
    SettleEvent,
    Status,
)
from ...engine.claims import ClaimEvent
from ...engine.intake import DetailLine
from ...engine.lifecycle_results import EnrolResult, FilingResult
from ...engine.persons import Filing
from ...engine.vocabulary import Route

FEE_DETAIL = "xsettle.v1.FeeDetail"
AMOUNTS = "xsettle.v1.SettlementAmounts"
SPLIT_FIELDS = ("amount", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")


def utc_now() -> datetime:
    return datetime.now(UTC)


def claim_to_event(record: dict[str, Any]) -> dict[str, Any]:
    """A decoded ``HospitalClaim`` as the scenario-style event the engine validates."""
    event = {key: value for key, value in record.items() if value is not None}
    if record["kind"] == "reverse":
        for key in ("treatment_region", "institution_level", "medical_type", "date", "lines"):
            event.pop(key, None)
        event.pop("emergency", None)
    return event


def event_to_claim(event: ClaimEvent, request_id: str | None = None) -> dict[str, Any]:
    """A validated event as a ``HospitalClaim`` record (what a hospital would produce)."""
    record: dict[str, Any] = {
        "kind": event.kind,
        "claim_id": event.claim_id,
        "person_id": event.person_id,
        "request_id": request_id,
    }
    if isinstance(event, SettleEvent):
        record.update(
            treatment_region=event.treatment_region,
            institution_level=event.institution_level,
            medical_type=event.medical_type,
            emergency=event.emergency,
            date=event.date,
            lines=[
                {"code": line.code, "unit_price": line.unit_price, "quantity": line.quantity}
                for line in event.lines
            ],
        )
    return record


def _split(split: FeeSplit) -> dict[str, Decimal]:
    return {name: getattr(split, name) for name in SPLIT_FIELDS}


def _unsplit(record: dict[str, Any]) -> FeeSplit:
    return FeeSplit(*(record[name] for name in SPLIT_FIELDS))


def settle_request(
    detail: FeeDetail, request_id: str, insured_region: str | None, submitted_at: datetime
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "kind": "settle",
        "claim_id": detail.claim_id,
        "person_id": detail.person_id,
        "insured_region": insured_region,
        "submitted_at": submitted_at,
        # Tuple notation names the union branch, sparing fastavro a deep match per message.
        "detail": (
            FEE_DETAIL,
            {
                "treatment_region": detail.treatment_region,
                "institution_level": detail.institution_level,
                "medical_type": detail.medical_type,
                "emergency": detail.emergency,
                "date": detail.date,
                "lines": [
                    {
                        "code": line.code,
                        "category": line.category,
                        "unit_price": line.unit_price,
                        "quantity": line.quantity,
                        "split": _split(line.split),
                    }
                    for line in detail.lines
                ],
                "totals": _split(detail.totals),
                "categories": [
                    {"category": category, "amount": amount}
                    for category, amount in sorted(detail.categories.items())
                ],
            },
        ),
    }


def reverse_request(
    claim_id: str, person_id: str, request_id: str, submitted_at: datetime
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "kind": "reverse",
        "claim_id": claim_id,
        "person_id": person_id,
        "insured_region": None,
        "submitted_at": submitted_at,
        "detail": None,
    }


ITEMISED = ("FeeDetail.lines", "FeeDetail.categories")
"""The request's itemised detail: settlement needs only the totals, so the insured
location reads requests without these (decoding the lines was most of its decode)."""


def request_detail(record: dict[str, Any]) -> FeeDetail:
    """The engine's fee detail from a decoded settle ``SettlementRequest``, with its
    lines and categories when the reader kept them (see :data:`ITEMISED`)."""
    detail = record["detail"]
    return FeeDetail(
        claim_id=record["claim_id"],
        person_id=record["person_id"],
        treatment_region=detail["treatment_region"],
        institution_level=detail["institution_level"],
        medical_type=detail["medical_type"],
        emergency=detail["emergency"],
        date=detail["date"],
        lines=tuple(
            DetailLine(
                line["code"],
                line["category"],
                line["unit_price"],
                line["quantity"],
                _unsplit(line["split"]),
            )
            for line in detail.get("lines", ())
        ),
        totals=_unsplit(detail["totals"]),
        categories={entry["category"]: entry["amount"] for entry in detail.get("categories", ())},
    )


def result_id(
    result: Result,
    person_id: str | None,
    request_id: str | None,
    generation: int,
    duplicate: bool = False,
) -> str:
    """Deterministic: the same request in the same state always yields the same id.

    A settlement's or reversal's id names the person's claim (claim ids are per
    person) and its settlement generation. A rejection's, and the answer to a
    duplicate settle, also name the request that caused them, so every id has one
    content. The insured location keeps every id it published, so a redelivery never
    recomputes one from later state.
    """
    basis = [person_id or "", result.claim_id or "", result.status.value, str(generation)]
    if result.status is Status.REJECTED:
        basis += [result.reason.value if result.reason else "", request_id or ""]
    elif duplicate:
        basis += ["duplicate", request_id or ""]
    return hashlib.blake2b("|".join(basis).encode(), digest_size=12).hexdigest()


def result_record(
    result: Result,
    *,
    request_id: str | None,
    person_id: str | None,
    insured_region: str | None,
    submitted_at: datetime | None,
    settled_at: datetime | None = None,
    generation: int = 0,
    treatment_region: str | None = None,
    medical_type: str | None = None,
    duplicate_of: str | None = None,
    claim_date: date | None = None,
) -> dict[str, Any]:
    """A ``SettlementResult``. Without ``settled_at`` it is decided from the message
    alone (a malformed event, a region with no catalog), settled on receipt at
    ``submitted_at``, so a redelivery gives the very same record. ``generation`` counts
    the claim's settlements, ``duplicate_of`` names the settlement a duplicate
    re-emits, ``claim_date`` is the date of the claim's record (its clearing period, §6)."""
    amounts = result.amounts
    duplicate = duplicate_of is not None
    return {
        "result_id": result_id(result, person_id, request_id, generation, duplicate),
        "request_id": request_id,
        "claim_id": result.claim_id,
        "status": result.status.value,
        "filing_type": result.filing_type,
        "reason": result.reason.value if result.reason else None,
        "message": result.message,
        "amounts": (AMOUNTS, {name: getattr(amounts, name) for name in AMOUNT_FIELDS})
        if amounts
        else None,
        "person_id": person_id,
        "insured_region": insured_region,
        "treatment_region": treatment_region,
        "medical_type": medical_type,
        "submitted_at": submitted_at,
        "settled_at": settled_at or submitted_at,
        "duplicate_of": duplicate_of,
        "route": result.route.value if result.route is Route.MANUAL else None,
        "date": claim_date,
    }


def record_result(record: dict[str, Any]) -> Result:
    """The engine's result from a decoded ``SettlementResult``."""
    amounts = record["amounts"]
    return Result(
        claim_id=record["claim_id"],
        status=Status(record["status"]),
        filing_type=record["filing_type"],
        amounts=Amounts(**amounts) if amounts else None,
        reason=Reason(record["reason"]) if record["reason"] else None,
        message=record["message"],
        route=Route(record["route"]) if record.get("route") else Route.DIRECT,
    )


def record_answer(record: dict[str, Any]) -> "Result | EnrolResult | FilingResult":
    """The engine's answer from a decoded record of either result topic (a
    ``RegistryResult`` has a ``kind``; a ``SettlementResult`` has none)."""
    return record_registry_result(record) if "kind" in record else record_result(record)


def person_event_to_event(record: dict[str, Any]) -> dict[str, Any]:
    """A decoded ``PersonEvent`` as the scenario-style event the engine validates: a
    null field is an absent one (Avro cannot tell them apart), and
    ``clear_assistance_group`` is the JSON form's ``assistance_group: null``."""
    event = {
        key: value
        for key, value in record.items()
        if value is not None and key != "clear_assistance_group"
    }
    if record.get("clear_assistance_group"):
        event["assistance_group"] = None
    return event


def registry_result_record(
    outcome: EnrolResult | FilingResult,
    *,
    kind: str,
    person_id: str | None,
    request_id: str,
    submitted_at: datetime | None,
    settled_at: datetime,
) -> dict[str, Any]:
    """A ``RegistryResult``: the answer to an enrol, file or cancel_filing; a filing's
    fields describe it as filed (FILED) or as it now ends (FILING_CANCELLED)."""
    filing = outcome.filing if isinstance(outcome, FilingResult) else None
    subject = outcome.filing_id if isinstance(outcome, FilingResult) else outcome.person_id
    basis = [person_id or "", kind, subject or "", outcome.status.value, request_id]
    return {
        "result_id": hashlib.blake2b("|".join(basis).encode(), digest_size=12).hexdigest(),
        "request_id": request_id,
        "kind": kind,
        "status": outcome.status.value,
        "person_id": person_id,
        "filing_id": outcome.filing_id if isinstance(outcome, FilingResult) else None,
        "reason": outcome.reason.value if outcome.reason else None,
        "message": outcome.message,
        "filing_type": filing.type if filing else None,
        "treatment_region": filing.treatment_region if filing else None,
        "valid_from": filing.valid_from if filing else None,
        "valid_to": filing.valid_to if filing else None,
        "balc": outcome.balc if isinstance(outcome, EnrolResult) else None,
        "submitted_at": submitted_at,
        "settled_at": settled_at,
    }


def record_registry_result(record: dict[str, Any]) -> EnrolResult | FilingResult:
    """The engine's answer from a decoded ``RegistryResult`` (prints as offline)."""
    status = Status(record["status"])
    reason = Reason(record["reason"]) if record["reason"] else None
    if record["kind"] == "enrol":
        return EnrolResult(
            record["person_id"], status, record["balc"], reason=reason, message=record["message"]
        )
    filing = None
    if record["filing_type"] is not None:
        filing = Filing(
            type=record["filing_type"],
            treatment_region=record["treatment_region"],
            valid_from=record["valid_from"],
            valid_to=record["valid_to"],
        )
    return FilingResult(
        record["filing_id"],
        status,
        record["person_id"],
        filing,
        reason=reason,
        message=record["message"],
    )
