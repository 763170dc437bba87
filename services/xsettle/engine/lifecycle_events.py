"""Life-cycle events (SETTLEMENT_RULES §5) as the registry sends them, and their validation.

Types are strict, as for claims (§3): a scheme is a non-empty string (not 5), an
assistance group is one or null (not ""), a credit is an exact non-negative amount in
whole fen. A malformed event is answered, not raised: ``ENROLMENT_INVALID`` naming the
person, or ``FILING_INVALID`` naming the filing, with a message naming the field.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from .claims import Event, Id, Unreadable, given_id, without_tag
from .dates import Day
from .errors import describe
from .lifecycle_results import enrolment_rejected, filing_rejected
from .money import FEN, exact
from .persons import InsuranceStatus
from .values import MONEY_LIMIT, Region
from .vocabulary import FiledType, Reason


def _whole_fen(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    if value >= MONEY_LIMIT:
        raise ValueError(f"must be below {MONEY_LIMIT:,f}")
    if value != value.quantize(FEN):
        raise ValueError(f"must be a whole number of fen, not {value}")
    return value.quantize(FEN)


Credit = Annotated[
    Decimal, BeforeValidator(exact), Field(allow_inf_nan=False), AfterValidator(_whole_fen)
]
"""个人账户划入: ≥ 0 and in whole fen ("1.000" is, "1.005" is not)."""

_NOT_NULL = ("insured_region", "scheme", "member_type", "status", "account_credit")


class EnrolEvent(Event):
    """参保登记/变更. A field left out keeps its value; only ``assistance_group`` may be
    given as null (which clears it). Whether the person is new is the registry's to say,
    so the fields a new person needs are checked there (:mod:`.enrolment`)."""

    kind: Literal["enrol"]
    person_id: Id
    insured_region: Region | None = None
    scheme: Id | None = None
    member_type: Id | None = None
    status: InsuranceStatus | None = None
    assistance_group: Id | None = None
    account_credit: Credit | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        for key in _NOT_NULL:
            if isinstance(data, dict) and key in data and data[key] is None:
                raise ValueError(f"{key}: must not be null (leave it out to keep the old value)")
        return data

    def given(self, key: str) -> bool:
        """Whether the event names this field (an explicit null included)."""
        return key in self.model_fields_set


def _after_the_first_day(day: date) -> date:
    if day == date.min:
        raise ValueError("must be after 0001-01-01 (a filing ends on the day before)")
    return day


FilingDay = Annotated[Day, AfterValidator(_after_the_first_day)]
"""A filing's or a cancellation's ``date``: something ends the day before it."""


class FileEvent(Event):
    """备案: valid from ``date``; ``valid_to`` only for referral and temporary filings."""

    kind: Literal["file"]
    filing_id: Id
    person_id: Id
    type: FiledType
    treatment_region: Region
    date: FilingDay
    valid_to: Day | None = None

    @model_validator(mode="after")
    def _period_shape(self) -> "FileEvent":
        if self.valid_to is not None:
            if self.type == "long_term":
                raise ValueError(
                    "valid_to: must be absent or null for a long_term filing (长期有效)"
                )
            if self.valid_to < self.date:
                raise ValueError("valid_to: must not be earlier than date")
        return self


class CancelFilingEvent(Event):
    """取消备案: from ``date`` on the filing covers nothing."""

    kind: Literal["cancel_filing"]
    filing_id: Id
    person_id: Id
    date: FilingDay


LifecycleEvent = EnrolEvent | FileEvent | CancelFilingEvent
LIFECYCLE_KINDS = ("enrol", "file", "cancel_filing")
_EVENT = TypeAdapter(Annotated[LifecycleEvent, Field(discriminator="kind")])


def parse_lifecycle(raw: dict[str, Any]) -> LifecycleEvent:
    """Validate an event whose ``kind`` is one of :data:`LIFECYCLE_KINDS`, raising
    :class:`Unreadable` with its rejection."""
    try:
        return _EVENT.validate_python(raw)
    except ValidationError as error:
        message = without_tag(describe(error), LIFECYCLE_KINDS)
    if raw.get("kind") == "enrol":
        raise Unreadable(enrolment_rejected(given_id(raw, "person_id"), message))
    raise Unreadable(filing_rejected(given_id(raw, "filing_id"), Reason.FILING_INVALID, message))
