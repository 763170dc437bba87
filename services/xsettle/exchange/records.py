"""Engine objects ↔ the Avro records of the wire contract (schemas/*.avsc).

The engine knows nothing of Kafka; this module is the one place that knows both.
"""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..engine import (
    AMOUNT_FIELDS,
    Amounts,
    FeeDetail,
    FeeSplit,
    Reason,
    Result,
    SettleEvent,
    Status,
)
from ..engine.claims import ClaimEvent
from ..engine.intake import DetailLine

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
    generation: int,
    person_id: str | None,
    insured_region: str | None,
    treatment_region: str | None,
    medical_type: str | None,
    submitted_at: datetime | None,
    settled_at: datetime,
    duplicate_of: str | None = None,
) -> dict[str, Any]:
    """A ``SettlementResult``; ``duplicate_of`` names the settlement a duplicate re-emits."""
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
        "settled_at": settled_at,
        "duplicate_of": duplicate_of,
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
    )
