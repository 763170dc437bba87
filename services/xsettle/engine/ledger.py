"""A person's yearly ledger (参保地台账): what their earlier claims already used up.

Accumulators are per calendar year: deductible paid, pooled fund paid and settled
visits per medical type; in-scope burden, critical-illness and assistance paid across
medical types. The personal-account balance is per person. Each settled claim keeps
exactly what it added, so a reversal (结算撤销) takes back exactly that.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .results import Result

ZERO = Decimal("0.00")


@dataclass(slots=True)
class YearTotals:
    deductible: dict[str, Decimal] = field(default_factory=dict)
    fund: dict[str, Decimal] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    burden: Decimal = ZERO
    critical_illness: Decimal = ZERO
    assistance: Decimal = ZERO

    def to_dict(self, money: Callable[[Decimal], str] = str) -> dict[str, Any]:
        """Amounts as exact text: ``str`` to store (keeps every digit), ``fmt_money`` to show."""
        return {
            "deductible": {k: money(v) for k, v in self.deductible.items()},
            "fund": {k: money(v) for k, v in self.fund.items()},
            "visits": dict(self.visits),
            "burden": money(self.burden),
            "critical_illness": money(self.critical_illness),
            "assistance": money(self.assistance),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "YearTotals":
        return cls(
            deductible={k: Decimal(v) for k, v in data["deductible"].items()},
            fund={k: Decimal(v) for k, v in data["fund"].items()},
            visits=dict(data["visits"]),
            burden=Decimal(data["burden"]),
            critical_illness=Decimal(data["critical_illness"]),
            assistance=Decimal(data["assistance"]),
        )


@dataclass(slots=True)
class ClaimRecord:
    """A settled claim: its result, where it was booked, and its reversal if any.

    The claim's ``date`` decides the year it is booked in and the month it is cleared
    in (§6), which a reversal inherits from the settlement it reverses.
    """

    settlement: Result
    date: date
    medical_type: str
    burden: Decimal
    treatment_region: str
    reversal: Result | None = None
    generation: int = 1
    """How many times this claim id has been settled here (re-settled after a reversal)."""

    def to_state(self) -> list[Any]:
        """Positional, like :meth:`Result.to_state`: a ledger keeps one per claim."""
        return [
            self.settlement.to_state(),
            self.date.isoformat(),
            self.medical_type,
            str(self.burden),
            self.treatment_region,
            self.reversal.to_state() if self.reversal else None,
            self.generation,
        ]

    @classmethod
    def from_state(cls, state: list[Any]) -> "ClaimRecord":
        settlement, day, medical_type, burden, treatment_region, reversal, generation = state
        return cls(
            settlement=Result.from_state(settlement),
            date=date.fromisoformat(day),
            medical_type=medical_type,
            burden=Decimal(burden),
            treatment_region=treatment_region,
            reversal=Result.from_state(reversal) if reversal else None,
            generation=generation,
        )


@dataclass(slots=True)
class Ledger:
    person_id: str
    balance: Decimal
    years: dict[int, YearTotals] = field(default_factory=dict)
    claims: dict[str, ClaimRecord] = field(default_factory=dict)

    def year(self, year: int) -> YearTotals:
        totals = self.years.get(year)
        if totals is None:
            totals = self.years[year] = YearTotals()
        return totals

    def settled(self, claim_id: str) -> ClaimRecord | None:
        """The claim's record if it is currently settled (not reversed)."""
        record = self.claims.get(claim_id)
        return record if record is not None and record.reversal is None else None

    def book(self, claim_id: str, record: ClaimRecord) -> None:
        """Add a settlement to the accumulators and take its account payment."""
        amounts = record.settlement.amounts
        assert amounts is not None, "only settled results are booked"
        self._add(
            record,
            amounts.act_pay_dedc,
            amounts.hifp_pay,
            1,
            record.burden,
            amounts.hifmi_pay,
            amounts.maf_pay,
        )
        self.balance -= amounts.acct_pay
        previous = self.claims.get(claim_id)
        if previous is not None:
            record.generation = previous.generation + 1
        self.claims[claim_id] = record

    def unbook(self, record: ClaimRecord) -> None:
        """Take back exactly what :meth:`book` added, and refund the account payment."""
        amounts = record.settlement.amounts
        assert amounts is not None, "only settled results are booked"
        self._add(
            record,
            -amounts.act_pay_dedc,
            -amounts.hifp_pay,
            -1,
            -record.burden,
            -amounts.hifmi_pay,
            -amounts.maf_pay,
        )
        self.balance += amounts.acct_pay

    def _add(
        self,
        record: ClaimRecord,
        deductible: Decimal,
        fund: Decimal,
        visits: int,
        burden: Decimal,
        critical_illness: Decimal,
        assistance: Decimal,
    ) -> None:
        totals = self.year(record.date.year)
        kind = record.medical_type
        totals.deductible[kind] = totals.deductible.get(kind, ZERO) + deductible
        totals.fund[kind] = totals.fund.get(kind, ZERO) + fund
        totals.visits[kind] = totals.visits.get(kind, 0) + visits
        totals.burden += burden
        totals.critical_illness += critical_illness
        totals.assistance += assistance

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "balance": str(self.balance),
            "years": {str(year): totals.to_dict() for year, totals in self.years.items()},
            "claims": {claim: record.to_state() for claim, record in self.claims.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Ledger":
        return cls(
            person_id=data["person_id"],
            balance=Decimal(data["balance"]),
            years={int(y): YearTotals.from_dict(t) for y, t in data["years"].items()},
            claims={c: ClaimRecord.from_state(r) for c, r in data["claims"].items()},
        )
