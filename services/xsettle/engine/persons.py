"""Insured persons (参保人) and their filings (备案)."""

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from .policy import Amount, Region, Strict
from .regions import covers
from .vocabulary import FilingType


class Filing(Strict):
    type: FilingType
    treatment_region: Region
    valid_from: date
    valid_to: date | None = None

    def covers(self, treatment_region: str) -> bool:
        return covers(self.treatment_region, treatment_region)

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Person(Strict):
    person_id: str
    insured_region: Region
    scheme: str
    member_type: str
    status: Literal["active", "suspended", "waiting"] = "active"
    account_balance: Amount = Decimal("0.00")
    assistance_group: str | None = None
    filings: list[Filing] = Field(default_factory=list)

    def filing_for(self, treatment_region: str, day: date) -> Filing | None:
        """The first filing, in list order, valid for this region on this day."""
        for filing in self.filings:
            if filing.covers(treatment_region) and filing.valid_on(day):
                return filing
        return None

    def filed_for(self, treatment_region: str) -> bool:
        """Whether any filing (valid or not) names an area covering the region."""
        return any(filing.covers(treatment_region) for filing in self.filings)
