"""Insured persons (参保人): their registry record and their filings (备案).

``persons[]`` of a scenario is only the starting state (§5): enrolments change the
registry record, ``file`` and ``cancel_filing`` the filings. The record is therefore
kept apart from what changes by other events (filings, the account balance), so the
live state (:class:`~xsettle.engine.insured.Insured`) holds each fact once.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Literal

from pydantic import Field

from .regions import covers
from .values import Amount, Region, Strict
from .vocabulary import FilingType

InsuranceStatus = Literal["active", "suspended", "waiting"]
"""正常 | 断缴/异常 | 待遇等待期: only ``active`` insurance pays benefits."""


class Filing(Strict):
    type: FilingType
    treatment_region: Region
    valid_from: date
    valid_to: date | None = None

    def covers(self, treatment_region: str) -> bool:
        return covers(self.treatment_region, treatment_region)

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class FilingEntry(Filing):
    """A filing made by a ``file`` event (§5), with the ``filing_id`` it was filed under.
    Those given in ``persons[]`` have no id and cannot be cancelled."""

    filing_id: str


def valid_filing(filings: Sequence[Filing], treatment_region: str, day: date) -> Filing | None:
    """The first filing, in list order, valid for this region on this day (§3 check 8)."""
    for filing in filings:
        if filing.covers(treatment_region) and filing.valid_on(day):
            return filing
    return None


def filed_for(filings: Sequence[Filing], treatment_region: str) -> bool:
    """Whether any filing (valid or not) names an area covering the region."""
    return any(filing.covers(treatment_region) for filing in filings)


class Registration(Strict):
    """The registry record (参保登记): what an ``enrol`` event sets."""

    person_id: str
    insured_region: Region
    scheme: str
    member_type: str
    status: InsuranceStatus = "active"
    assistance_group: str | None = None


class Person(Registration):
    """An entry of ``persons[]``: a registry record with its starting balance and filings."""

    account_balance: Amount = Decimal("0.00")
    filings: list[Filing] = Field(default_factory=list)

    @cached_property
    def registration(self) -> Registration:
        """The record alone, without the state other events change (made once: a person
        is immutable, and every exchange over the same reference starts from it)."""
        return Registration.model_construct(
            **{name: getattr(self, name) for name in Registration.model_fields}
        )
