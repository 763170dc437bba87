"""Claims: settle and reverse requests as the hospital sends them, manual
reimbursements as the insured location receives them (§5), and their validation.

A malformed event is not an error of the exchange: it becomes a ``REJECTED /
INVALID_CLAIM`` result whose message names the field, and processing goes on.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from ..errors import XsettleError
from .dates import Day
from .errors import describe, shown
from .lifecycle_results import EnrolResult, FilingResult
from .limits import DecimalLimits
from .results import Result, rejected
from .values import MONEY_LIMIT, Region
from .vocabulary import MedicalType, Reason, StrictLevel

# This runs for every line of every claim. Floats are taken by their shortest text, so
# 0.1 means 0.1 exactly. The digit limits are the wire's (Avro decimal precision 18 and
# 14), so every valid claim can be carried; a line's amount stays below LINE_LIMIT and a
# claim has at most MAX_LINES lines, so every total stays below MONEY_LIMIT, what a
# result can carry.
UnitPrice = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    AfterValidator(DecimalLimits(18, 6, positive=False)),
]
Quantity = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    AfterValidator(DecimalLimits(14, 4, positive=True)),
]
ID_LIMIT = 256
Id = Annotated[str, Field(strict=True, min_length=1, max_length=ID_LIMIT)]
"""Claim and person ids: non-empty strings (§3), bounded so that every message that
echoes one stays far below the broker's message size."""
Code = Annotated[str, Field(strict=True, max_length=ID_LIMIT)]
"""A line's item code: any string, even empty (§4), bounded like ids."""
LINE_LIMIT = Decimal(10) ** 13
MAX_LINES = 1000
assert LINE_LIMIT * MAX_LINES <= MONEY_LIMIT


class Event(BaseModel):
    """Producers may add fields of their own; they are ignored, not rejected."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class FeeLine(Event):
    code: Code
    unit_price: UnitPrice
    quantity: Quantity


class SettleEvent(Event):
    kind: Literal["settle"]
    claim_id: Id
    person_id: Id
    treatment_region: Region
    institution_level: StrictLevel
    medical_type: MedicalType
    emergency: Annotated[bool, Field(strict=True)] = False
    date: Day
    lines: Annotated[list[FeeLine], Field(min_length=1, max_length=MAX_LINES)]

    @model_validator(mode="after")
    def _amounts_fit(self) -> "SettleEvent":
        # Once per claim rather than per line: this is the engine's hot path.
        for index, line in enumerate(self.lines):
            if line.unit_price * line.quantity >= LINE_LIMIT:
                raise ValueError(
                    f"lines[{index}]: unit_price × quantity must be below {LINE_LIMIT:,f} yuan"
                )
        return self


class ManualEvent(SettleEvent):
    """手工报销 (§5): the fields of a settle, handled by the insured location alone.

    A subclass, so everything that itemises or prices a settle does the same for it;
    whoever dispatches on the type must test for it before :class:`SettleEvent`.
    """

    kind: Literal["manual"]  # type: ignore[assignment]


class ReverseEvent(Event):
    kind: Literal["reverse"]
    claim_id: Id
    person_id: Id
    """Required: a claim id is its person's (§3), and the exchange routes by person."""


ClaimEvent = SettleEvent | ManualEvent | ReverseEvent
CLAIM_KINDS = ("settle", "reverse", "manual")
_EVENT = TypeAdapter(Annotated[ClaimEvent, Field(discriminator="kind")])


class Unreadable(XsettleError):
    """A malformed event (of any kind), with the rejection that answers it: the sender's
    to fix, so it is answered like any event and processing goes on."""

    def __init__(self, answer: Result | EnrolResult | FilingResult) -> None:
        super().__init__(answer.message)
        self.answer = answer


class InvalidClaim(Unreadable):
    """A malformed claim: ``REJECTED / INVALID_CLAIM`` naming the claim, with a
    ``message`` that names the field and the problem."""

    def __init__(self, claim_id: str | None, message: str) -> None:
        super().__init__(rejected(claim_id, Reason.INVALID_CLAIM, message))


def parse_event(raw: Any) -> ClaimEvent:
    """Validate one event, raising :class:`InvalidClaim` with a field-naming message."""
    if not isinstance(raw, dict):
        raise InvalidClaim(None, f"an event must be an object, not {type(raw).__name__}")
    claim_id = given_id(raw, "claim_id")
    if raw.get("kind") not in CLAIM_KINDS:
        raise InvalidClaim(claim_id, unknown_kind(raw.get("kind"), CLAIM_KINDS))
    try:
        return _EVENT.validate_python(raw)
    except ValidationError as error:
        raise InvalidClaim(claim_id, without_tag(describe(error), CLAIM_KINDS)) from None


def given_id(raw: dict[str, Any], key: str) -> str | None:
    """The id a rejection names: the event's own if it is a valid id, else ``None`` (§2)."""
    value = raw.get(key)
    return value if isinstance(value, str) and 0 < len(value) <= ID_LIMIT else None


def unknown_kind(kind: Any, kinds: tuple[str, ...]) -> str:
    return f"kind: must be one of {', '.join(kinds)}, not {shown(kind)}"


def without_tag(message: str, kinds: tuple[str, ...]) -> str:
    """Drop the union's tag: ``settle.lines[0]: …`` → ``lines[0]: …``, and a claim-level
    ``settle: lines[0]: …`` (whose message names its own path) likewise."""
    for kind in kinds:
        for tag in (f"{kind}.", f"{kind}: "):
            if message.startswith(tag):
                return message[len(tag) :]
    return message
