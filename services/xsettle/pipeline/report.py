"""The end-of-run report a person reads: outcomes, money by region, speed."""

import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ..engine.money import fmt_money
from ..presentation import RegionNames, percentile  # shared with the dashboard

ZERO = Decimal("0.00")


@dataclass
class Money:
    fund: Decimal = ZERO
    personal: Decimal = ZERO
    claims: int = 0


@dataclass
class RunReport:
    names: RegionNames
    statuses: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    by_insured: dict[str, Money] = field(default_factory=lambda: defaultdict(Money))
    by_treatment: dict[str, Money] = field(default_factory=lambda: defaultdict(Money))
    counted: set[str] = field(default_factory=set)
    life_cycle: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(kind, outcome) of the insured side's registry events: a filing's outcome names
    its type (``FILED temporary``) or its rejection reason."""
    manual: Money = field(default_factory=Money)

    def add(self, result: dict[str, Any]) -> None:
        """Count one result; money once per result id (a duplicate re-emits its original),
        and a reversal's negated amounts take the money back out."""
        self.statuses[result["status"]] += 1
        if result["reason"]:
            self.reasons[result["reason"]] += 1
        if "kind" in result:  # a registry answer (enrol, file, cancel_filing): no money
            outcome = result["reason"] or " ".join(
                part for part in (result["status"], result["filing_type"]) if part
            )
            self.life_cycle[(result["kind"], outcome)] += 1
            return
        amounts = result["amounts"]
        # A duplicate settle's answer re-emits a settlement already counted.
        if not amounts or result["duplicate_of"] or result["result_id"] in self.counted:
            return
        self.counted.add(result["result_id"])
        sign = 1 if result["status"] == "SETTLED" else 0
        if result["route"] == "manual":
            self.manual.fund += amounts["fund_pay_sumamt"]
            self.manual.personal += amounts["psn_part_amt"]
            self.manual.claims += sign
        for table, key in (
            (self.by_insured, result["insured_region"]),
            (self.by_treatment, result["treatment_region"]),
        ):
            money = table[self.names(key)]
            money.fund += amounts["fund_pay_sumamt"]
            money.personal += amounts["psn_part_amt"]
            money.claims += sign

    def render(
        self,
        *,
        events: int,
        seconds: float,
        latencies_ms: Iterable[float],
        dead_letters: int,
        differ_from_offline: list[str] | None = None,
        offered: float | None = None,
    ) -> str:
        """The report as plain text (the same on a terminal and in a log). Given
        ``differ_from_offline`` (the request ids whose answer is not the offline
        engine's), it ends saying whether the pipeline equals the engine. ``offered``:
        the events/s the day was offered at steadily (None: sent as one burst), which
        says whether the latencies are the system's or a queue's."""
        ordered = sorted(latencies_ms)
        lines = [
            "",
            "=== xsettle run report ===",
            f"events: {events}   results: {sum(self.statuses.values())}   "
            f"dead letters: {dead_letters}",
        ]
        lines.append("outcomes: " + ", ".join(f"{s} {n}" for s, n in sorted(self.statuses.items())))
        if self.reasons:
            reasons = number_table("reason", "answers")
            for reason, count in self.reasons.most_common():
                reasons.add_row(reason, str(count))
            lines += ["rejected by reason:", plain_text(reasons)]
        if self.life_cycle:
            events_table = number_table("event", "outcome", "answers")
            for (kind, outcome), count in sorted(self.life_cycle.items()):
                events_table.add_row(kind, outcome, str(count))
            lines += [
                "life-cycle events (enrolment, filing, cancellation):",
                plain_text(events_table),
            ]
        lines.append(
            f"manual reimbursements (手工报销): {self.manual.claims}, fund pays "
            f"{fmt_money(self.manual.fund)}, the person paid {fmt_money(self.manual.personal)}"
        )
        lines += self._money("by insured region (参保地)", self.by_insured)
        lines += self._money("by treatment region (就医地)", self.by_treatment)
        lines.append(
            f"throughput: {events / seconds:,.0f} events/s end to end ({events} in {seconds:.1f}s)"
        )
        how = (
            "(--burst: the day is sent at once, so this is mostly queueing)"
            if offered is None
            else f"at {offered:,.0f} events/s offered steadily"
        )
        lines.append(
            f"latency submit→result: p50 {percentile(ordered, 0.50):.0f} ms, "
            f"p99 {percentile(ordered, 0.99):.0f} ms {how}"
        )
        if differ_from_offline is not None:
            lines.append("pipeline equals the offline engine: " + _verdict(differ_from_offline))
        return "\n".join(lines)

    @staticmethod
    def _money(title: str, table: dict[str, Money]) -> list[str]:
        shown = number_table("region", "claims", "fund pays", "person pays")
        total = Money()
        for region, money in sorted(table.items()):
            shown.add_row(
                region, str(money.claims), fmt_money(money.fund), fmt_money(money.personal)
            )
            total.fund += money.fund
            total.personal += money.personal
            total.claims += money.claims
        shown.add_section()
        shown.add_row("total", str(total.claims), fmt_money(total.fund), fmt_money(total.personal))
        return [f"{title}:", plain_text(shown)]


def number_table(first: str, *numbers: str) -> Table:
    """A table of a name column and right-aligned number columns, ruled below the head."""
    table = Table(box=box.HORIZONTALS, show_edge=False, pad_edge=False)
    table.add_column(first)
    for name in numbers:
        table.add_column(name, justify="right")
    return table


def plain_text(table: Table) -> str:
    """A table as plain text, indented two spaces: no colour or terminal codes, so it
    reads the same in a log; rich measures CJK names' double width, so columns align."""
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None, force_terminal=False).print(table)
    return "\n".join("  " + line.rstrip() for line in buffer.getvalue().splitlines())


def _verdict(differ: list[str]) -> str:
    if not differ:
        return "yes"
    examples = ", ".join(differ[:3]) + (", …" if len(differ) > 3 else "")
    return f"NO — {len(differ)} answers differ from it (request ids {examples})"
