"""The dashboard's figures, computed from result records: pure, so tests drive it directly.

Results are deduplicated by ``result_id`` (a duplicate claim or a redelivered request
re-emits the same id). Money stays Decimal and leaves as two-decimal strings; a
reversal's negated amounts take its settlement back out of every total.
"""

from collections import Counter, OrderedDict, defaultdict, deque
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..engine.money import fmt_money
from ..pipeline.report import RegionNames, percentile

ZERO = Decimal("0.00")
FUND_FIELDS = ("fund_pay_sumamt", "hifp_pay", "hifmi_pay", "maf_pay")
PERSONAL_FIELDS = ("psn_part_amt", "acct_pay", "psn_cash_pay")
SEEN_KEPT = 200_000
"""Result ids remembered for dedupe: far more than any redelivery window."""
LATENCIES_KEPT = 20_000
MINUTES_KEPT = 60


class Figures:
    def __init__(self, names: RegionNames) -> None:
        self.names = names
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.statuses: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.per_minute: dict[str, Counter[str]] = defaultdict(Counter)
        self.fund = dict.fromkeys(FUND_FIELDS, ZERO)
        self.personal = dict.fromkeys(PERSONAL_FIELDS, ZERO)
        self.matrix: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        self.latencies: deque[float] = deque(maxlen=LATENCIES_KEPT)
        self.duplicates = 0
        self.undecodable = 0

    def ingest(self, result: dict[str, Any]) -> bool:
        """Count one result; False if its id was already counted."""
        result_id = result["result_id"]
        if result_id in self.seen:
            self.duplicates += 1
            return False
        self.seen[result_id] = None
        if len(self.seen) > SEEN_KEPT:
            self.seen.popitem(last=False)
        status = result["status"]
        self.statuses[status] += 1
        if result["reason"]:
            self.reasons[result["reason"]] += 1
        settled_at: datetime = result["settled_at"]
        self.per_minute[settled_at.strftime("%H:%M")][status] += 1
        if len(self.per_minute) > MINUTES_KEPT:
            del self.per_minute[min(self.per_minute)]
        if result["submitted_at"] is not None:
            delay = (settled_at - result["submitted_at"]).total_seconds() * 1000
            self.latencies.append(delay)
        amounts = result["amounts"]
        if amounts:
            for field in FUND_FIELDS:
                self.fund[field] += amounts[field]
            for field in PERSONAL_FIELDS:
                self.personal[field] += amounts[field]
            cell = (self.names(result["insured_region"]), self.names(result["treatment_region"]))
            self.matrix[cell] += amounts["fund_pay_sumamt"]
        return True

    def snapshot(self, lag: int | None = None) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        insured = sorted({i for i, _ in self.matrix})
        treatment = sorted({t for _, t in self.matrix})
        return {
            "results": sum(self.statuses.values()),
            "settled": self.statuses["SETTLED"],
            "rejected": self.statuses["REJECTED"],
            "reversed": self.statuses["REVERSED"],
            "duplicates_ignored": self.duplicates,
            "undecodable": self.undecodable,
            "reasons": dict(self.reasons.most_common()),
            "per_minute": [
                {
                    "minute": minute,
                    "settled": counts["SETTLED"],
                    "rejected": counts["REJECTED"],
                    "reversed": counts["REVERSED"],
                }
                for minute, counts in sorted(self.per_minute.items())
            ],
            "fund": {field: fmt_money(value) for field, value in self.fund.items()},
            "personal": {field: fmt_money(value) for field, value in self.personal.items()},
            "latency_ms": {f"p{q}": round(percentile(ordered, q / 100), 1) for q in (50, 95, 99)},
            "consumer_lag": lag,
            "matrix": {
                "insured": insured,
                "treatment": treatment,
                "fund_paid": [
                    [fmt_money(self.matrix.get((i, t), ZERO)) for t in treatment] for i in insured
                ],
            },
        }
