"""The end-of-run report a person reads: outcomes, money by region, speed."""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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

    def add(self, result: dict[str, Any]) -> None:
        """Count one result; money once per result id (a duplicate re-emits its original),
        and a reversal's negated amounts take the money back out."""
        self.statuses[result["status"]] += 1
        if result["reason"]:
            self.reasons[result["reason"]] += 1
        amounts = result["amounts"]
        if not amounts or result["result_id"] in self.counted:
            return
        self.counted.add(result["result_id"])
        sign = 1 if result["status"] == "SETTLED" else 0
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
        matches_offline: bool | None,
    ) -> str:
        ordered = sorted(latencies_ms)
        lines = [
            "",
            "=== xsettle run report ===",
            f"events: {events}   results: {sum(self.statuses.values())}   "
            f"dead letters: {dead_letters}",
        ]
        lines.append("outcomes: " + ", ".join(f"{s} {n}" for s, n in sorted(self.statuses.items())))
        if self.reasons:
            lines.append("rejected by reason:")
            lines += [f"  {reason:<32} {count:>7}" for reason, count in self.reasons.most_common()]
        lines += self._money("by insured region (参保地)", self.by_insured)
        lines += self._money("by treatment region (就医地)", self.by_treatment)
        lines.append(
            f"throughput: {events / seconds:,.0f} events/s end to end ({events} in {seconds:.1f}s)"
        )
        lines.append(
            f"latency submit→result: p50 {percentile(ordered, 0.50):.0f} ms, "
            f"p99 {percentile(ordered, 0.99):.0f} ms (the day is sent as one burst, so this "
            "is mostly queueing; `make bench` measures latency at steady loads)"
        )
        if matches_offline is not None:
            lines.append(
                "pipeline equals the offline engine: "
                + ("yes" if matches_offline else "NO — see the mismatches above")
            )
        return "\n".join(lines)

    @staticmethod
    def _money(title: str, table: dict[str, Money]) -> list[str]:
        lines = [
            f"{title}:",
            f"  {'region':<24} {'claims':>7} {'fund pays':>16} {'person pays':>16}",
        ]
        total = Money()
        for region, money in sorted(table.items()):
            lines.append(
                f"  {region:<24} {money.claims:>7} {fmt_money(money.fund):>16} "
                f"{fmt_money(money.personal):>16}"
            )
            total.fund += money.fund
            total.personal += money.personal
            total.claims += money.claims
        lines.append(
            f"  {'total':<24} {total.claims:>7} {fmt_money(total.fund):>16} "
            f"{fmt_money(total.personal):>16}"
        )
        return lines
