"""The dashboard's clearing view (清算, 对账): per period, who owes whom, open or closed,
and whether the two locations' records of the money agree. Pure, like :mod:`.figures`.

It is built from three topics the dashboard replays from the beginning (so a restart
or a replica shows the same view, with nothing to coordinate):

- the result topic: the insured location's side, taken through the same §6 rule as
  ``xsettle reconcile`` (:class:`~xsettle.clearing.reconcile.Clearer`);
- the treatment register's changelog: the treatment location's payouts, the other
  side of the reconciliation (which the clearing service does not hold, so asking it
  would not do);
- the clearing statement topic: the periods the clearing service has closed and the
  lines it closed them with, which never change.

A closed period shows its published statement. An open period shows its running lines
from the results, plus what the clearing service books there as adjustments: a closed
period's results less what its statement and the adjustment lines closed since already
hold, in the next open period, as the service books them. So once the clearing service
has read the results the dashboard has read, an open period's lines are the service's
``GET /clearing/{period}``. Memory grows with the cleared results retained (each is one
side's payment, kept for the per-claim comparison), as the reconciliation's does.
"""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from ..clearing.location import line_from_record, line_record, next_period, statement_line
from ..clearing.reconcile import (
    Clearer,
    Payment,
    RegisterCopy,
    agree,
    cleared,
    differences_by_kind,
    payouts,
    reconcile,
    statement_of,
)
from ..engine.clearing import StatementLine
from ..engine.money import ZERO, fmt_money

Row = dict[str, Any]


class ClearingView:
    def __init__(self) -> None:
        self.clearer = Clearer()
        self.insured: list[Payment] = []
        self.register = RegisterCopy()
        self.published: dict[tuple[str, str, str, str | None], Row] = {}
        """Statement lines by their identity: closing a period again re-publishes them."""
        self.closed_at: dict[str, str] = {}
        self._changes = 0
        self._shown: tuple[int, list[Row]] | None = None

    def take_result(self, result: Row) -> None:
        """A decoded ``SettlementResult`` (the insured location's side)."""
        payment = self.clearer.take(result)
        if payment is not None:
            self.insured.append(payment)
            self._changes += 1

    def take_register(self, key: bytes, value: bytes | None) -> None:
        """A record of the treatment register's changelog (the treatment location's side)."""
        self.register.take(key, value)
        self._changes += 1

    def take_statement(self, record: Row) -> None:
        """A decoded ``ClearingStatementLine``: its period is closed."""
        line = statement_line(record)
        identity = (
            line["period"],
            line["insured_province"],
            line["treatment_province"],
            line.get("adjusts"),
        )
        self.published[identity] = line
        self.closed_at[line["period"]] = record["closed_at"].isoformat()
        self._changes += 1

    def snapshot(self) -> list[Row]:
        """Every period with a cleared result or a statement, oldest first. Computed
        again only when something was taken since (the page asks every few seconds)."""
        if self._shown is None or self._shown[0] != self._changes:
            self._shown = (self._changes, self._compute())
        return self._shown[1]

    def _compute(self) -> list[Row]:
        treatment = cleared(payouts(self.register.entries))
        periods = {p.period for p in self.insured} | {p.period for p in treatment}
        lines: dict[str, list[Row]] = defaultdict(list)
        for (period, *_), line in self.published.items():
            lines[period].append(line)
        for period in periods - set(self.closed_at):
            lines[period] += [
                line.to_record() for line in statement_of(self.insured, period).values()
            ]
        for period in self.closed_at:
            booked_in = self._next_open(period)
            if late := self._late(period, booked_in):
                lines[booked_in] += late
        shown = []
        for period, unordered in sorted(lines.items()):
            period_lines = sorted(unordered, key=_order)
            totals, differences = reconcile(self.insured, treatment, period)
            shown.append(
                {
                    "period": period,
                    "state": "closed" if period in self.closed_at else "open",
                    "closed_at": self.closed_at.get(period),
                    "owed": fmt_money(sum((Decimal(line["owed"]) for line in period_lines), ZERO)),
                    "net": net_between_provinces(period_lines),
                    "reconciliation": {
                        "agree": agree(totals, differences),
                        "province_pairs": len(totals),
                        "pairs_disagreeing": sum(1 for line in totals if not line["agree"]),
                        "differences": differences_by_kind(differences),
                    },
                    "lines": period_lines,
                }
            )
        return shown

    def _next_open(self, period: str) -> str:
        booked = next_period(period)
        while booked in self.closed_at:
            booked = next_period(booked)
        return booked

    def _late(self, period: str, booked_in: str) -> list[Row]:
        """The adjustment lines of closed ``period`` still open in ``booked_in``: its
        results less its own statement lines and the adjustments of it already closed."""
        late: dict[tuple[str, str], StatementLine] = {}

        def line_at(pair: tuple[str, str]) -> StatementLine:
            return late.setdefault(pair, StatementLine(booked_in, *pair))

        for pair, line in statement_of(self.insured, period).items():
            line_at(pair).merge(line)
        for (at, insured, treatment, adjusts), record in self.published.items():
            if (at == period and adjusts is None) or adjusts == period:
                line_at((insured, treatment)).merge(line_from_record(record), -1)
        return [
            line_record(line, period)
            for line in late.values()
            if line.settled or line.reversed or any(line.sums.values())
        ]


def _order(line: Row) -> tuple[str, str, str]:
    """§6's order, each pair's own line before its adjustments (as the service lists)."""
    return line["insured_province"], line["treatment_province"], line.get("adjusts") or ""


def net_between_provinces(lines: list[Row]) -> list[Row]:
    """Who owes whom: for each two provinces, what one owes the other less what the
    other owes it, largest first. Care in one's own province is not owed between
    provinces, so a line whose two provinces are the same is left out, and so is a pair
    whose net is zero (neither owes the other)."""
    owed: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        insured, treatment = line["insured_province"], line["treatment_province"]
        if insured == treatment:
            continue
        pair = (min(insured, treatment), max(insured, treatment))
        owed[pair] += Decimal(line["owed"]) if insured == pair[0] else -Decimal(line["owed"])
    net = [
        {"debtor": a, "creditor": b, "amount": amount}
        if amount >= 0
        else {"debtor": b, "creditor": a, "amount": -amount}
        for (a, b), amount in owed.items()
        if amount != 0
    ]
    net.sort(key=lambda row: (-row["amount"], row["debtor"], row["creditor"]))
    return [{**row, "amount": fmt_money(row["amount"])} for row in net]
