"""The answers to life-cycle events (SETTLEMENT_RULES §5): enrolments and filings.

A claim's answer is a :class:`~xsettle.engine.results.Result`, named by its
``claim_id``; these are named by the person or the filing they concern, in the
shapes §5 prints.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .money import fmt_money
from .persons import Filing
from .results import EventAnswer
from .vocabulary import Reason, Status


@dataclass(frozen=True, slots=True)
class EnrolResult(EventAnswer):
    """``ENROLLED`` with the account balance after the event, or ``REJECTED``."""

    person_id: str | None
    status: Status
    balc: Decimal | None = None

    def to_record(self) -> dict[str, Any]:
        if self.reason is not None:
            return self._rejection("person_id", self.person_id)
        assert self.balc is not None, "an enrolment reports the balance"
        return {
            "person_id": self.person_id,
            "status": self.status.value,
            "balc": fmt_money(self.balc),
        }


@dataclass(frozen=True, slots=True)
class FilingResult(EventAnswer):
    """``FILED`` (the filing as filed), ``FILING_CANCELLED`` (as it now ends), or ``REJECTED``."""

    filing_id: str | None
    status: Status
    person_id: str | None = None
    filing: Filing | None = None

    def to_record(self) -> dict[str, Any]:
        if self.reason is not None:
            return self._rejection("filing_id", self.filing_id)
        filing = self.filing
        assert filing is not None, "a filing result names its filing"
        record: dict[str, Any] = {
            "filing_id": self.filing_id,
            "status": self.status.value,
            "person_id": self.person_id,
        }
        if self.status is Status.FILED:
            record["filing_type"] = filing.type
            record["treatment_region"] = filing.treatment_region
            record["valid_from"] = filing.valid_from.isoformat()
        record["valid_to"] = filing.valid_to.isoformat() if filing.valid_to else None
        return record


def enrolment_rejected(person_id: str | None, message: str) -> EnrolResult:
    return EnrolResult(person_id, Status.REJECTED, reason=Reason.ENROLMENT_INVALID, message=message)


def filing_rejected(filing_id: str | None, reason: Reason, message: str) -> FilingResult:
    return FilingResult(filing_id, Status.REJECTED, reason=reason, message=message)
