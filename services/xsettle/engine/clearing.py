"""清算 (SETTLEMENT_RULES §6): what each insured province owes each treatment province.

The treatment location's hospitals are paid the funds' share at the desk, and the
patient's account share through the exchange; each month the insured province pays
the treatment province back. A statement line sums, per (month, insured province,
treatment province), every direct settlement that changed state and every reversal
of one, counted in the month of the claim it settles (a reversal in the month of
the settlement it reverses). Re-emitted duplicates move no money; manual
reimbursements (and their reversals) were paid by the insured location itself.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .insured import Insured
from .money import ZERO, fmt_money
from .regions import province_of
from .results import Result
from .vocabulary import Route, Status

CLEARED_AMOUNTS = (
    "medfee_sumamt",
    "hifp_pay",
    "hifmi_pay",
    "maf_pay",
    "fund_pay_sumamt",
    "acct_pay",
    "psn_cash_pay",
)
"""The amounts a statement line sums, in the order it prints them (then ``owed``)."""


@dataclass(frozen=True, slots=True)
class ClearingFacts:
    """What clearing needs to know about one SETTLED or REVERSED result, beyond itself:
    facts of the settlement (for a reversal, of the settlement it reverses)."""

    result: Result
    insured_region: str
    treatment_region: str
    claim_date: date
    route: Route
    changed_state: bool
    """False for a re-emitted duplicate."""

    @classmethod
    def of(cls, result: Result, insured: Insured, changed_state: bool) -> "ClearingFacts":
        """The facts of a claim's result, from the person's state right after it."""
        assert result.claim_id is not None and insured.person is not None
        record = insured.ledger.claims[result.claim_id]
        return cls(
            result=result,
            insured_region=insured.person.insured_region,
            treatment_region=record.treatment_region,
            claim_date=record.date,
            route=record.settlement.route,
            changed_state=changed_state,
        )

    @property
    def cleared(self) -> bool:
        """Whether the result moves money between provinces (§6)."""
        return (
            self.changed_state
            and self.route is Route.DIRECT
            and self.result.status in (Status.SETTLED, Status.REVERSED)
        )


@dataclass(slots=True)
class StatementLine:
    period: str
    insured_province: str
    treatment_province: str
    settled: int = 0
    reversed: int = 0
    sums: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(CLEARED_AMOUNTS, ZERO))

    def add(self, result: Result) -> None:
        """Count a settlement, or a reversal (whose amounts are already negative)."""
        self.add_amounts(
            result.status is Status.REVERSED,
            {name: getattr(result.amounts, name) for name in CLEARED_AMOUNTS},
        )

    def add_amounts(self, reversal: bool, amounts: Mapping[str, Decimal]) -> None:
        """Count a settlement or a reversal given as its amounts by name: how the
        services and the reconciliation see a result (a record, not an engine object)."""
        self._count(int(not reversal), int(reversal), amounts)

    def merge(self, other: "StatementLine", sign: int = 1) -> None:
        """Add another line's counts and sums into this one (``sign`` -1: take them out)."""
        self._count(other.settled, other.reversed, other.sums, sign)

    def _count(
        self, settled: int, reversed: int, amounts: Mapping[str, Decimal], sign: int = 1
    ) -> None:
        self.settled += sign * settled
        self.reversed += sign * reversed
        for name in CLEARED_AMOUNTS:
            self.sums[name] += sign * amounts[name]

    @property
    def owed(self) -> Decimal:
        """What the insured province pays: its funds' share and its persons' accounts'."""
        return self.sums["fund_pay_sumamt"] + self.sums["acct_pay"]

    def to_record(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "insured_province": self.insured_province,
            "treatment_province": self.treatment_province,
            "settled": self.settled,
            "reversed": self.reversed,
            **{name: fmt_money(self.sums[name]) for name in CLEARED_AMOUNTS},
            "owed": fmt_money(self.owed),
        }


def statement(facts: Iterable[ClearingFacts]) -> list[StatementLine]:
    """The statement lines of these results, sorted by period and province pair; only
    pairs with at least one cleared result have a line."""
    lines: dict[tuple[str, str, str], StatementLine] = {}
    for fact in facts:
        if not fact.cleared:
            continue
        key = (
            f"{fact.claim_date.year:04d}-{fact.claim_date.month:02d}",
            province_of(fact.insured_region),
            province_of(fact.treatment_region),
        )
        line = lines.get(key)
        if line is None:
            line = lines[key] = StatementLine(*key)
        line.add(fact.result)
    return [lines[key] for key in sorted(lines)]
