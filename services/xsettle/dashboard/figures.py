"""The dashboard's figures, computed from result records: pure, so tests drive it directly.

Results are deduplicated by ``result_id`` (a duplicate claim or a redelivered request
re-emits the same id). Money stays Decimal and leaves as two-decimal strings; a
reversal's negated amounts take its settlement back out of every total.

The figures depend on which results were read, not on the order they arrived in: the
dashboard rebuilds them by reading the result topic's partitions from the beginning
(see :mod:`.app`), and partitions interleave differently on every read, so a restart or
a second replica must come to the same figures. Hence minutes are kept by epoch minute
(the newest ``MINUTES_KEPT`` minutes that have results, whatever the date) and latencies
of the newest ``LATENCIES_KEPT`` results by settlement time, not by arrival. Only the
dedupe memory is by arrival, and a duplicate follows its original within a partition
long before ``SEEN_KEPT`` results have passed.
"""

import heapq
from collections import Counter, OrderedDict, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..engine.money import fmt_money
from ..presentation import RegionNames, percentile

ZERO = Decimal("0.00")
FUND_FIELDS = ("fund_pay_sumamt", "hifp_pay", "hifmi_pay", "maf_pay")
PERSONAL_FIELDS = ("psn_part_amt", "acct_pay", "psn_cash_pay")
SEEN_KEPT = 200_000
"""Result ids remembered for dedupe: far more than any redelivery window."""
LATENCIES_KEPT = 20_000
MINUTES_KEPT = 60


def epoch_minute(moment: datetime) -> int:
    """Minutes since 1970-01-01 UTC: a bucket key that keeps growing across midnight."""
    return int(moment.timestamp()) // 60


def minute_start(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


class Figures:
    def __init__(self, names: RegionNames) -> None:
        self.names = names
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.statuses: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.per_minute: dict[int, Counter[str]] = defaultdict(Counter)
        self.fund = dict.fromkeys(FUND_FIELDS, ZERO)
        self.personal = dict.fromkeys(PERSONAL_FIELDS, ZERO)
        self.matrix: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        self.latencies: list[tuple[datetime, str, float]] = []
        """A min-heap of (settled_at, result_id, milliseconds): the newest results'."""
        self.duplicates = 0
        self.reemitted = 0
        """Answers to duplicate settles (``duplicate_of``): not settlements of their own."""
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
        if result.get("duplicate_of"):
            # The answer to a duplicate settle re-emits a settlement already counted.
            self.reemitted += 1
            return True
        status = result["status"]
        self.statuses[status] += 1
        if result["reason"]:
            self.reasons[result["reason"]] += 1
        settled_at: datetime = result["settled_at"]
        self.per_minute[epoch_minute(settled_at)][status] += 1
        if len(self.per_minute) > MINUTES_KEPT:
            del self.per_minute[min(self.per_minute)]
        if result["submitted_at"] is not None:
            delay = (settled_at - result["submitted_at"]).total_seconds() * 1000
            heapq.heappush(self.latencies, (settled_at, result_id, delay))
            if len(self.latencies) > LATENCIES_KEPT:
                heapq.heappop(self.latencies)
        amounts = result["amounts"]
        if amounts:
            for field in FUND_FIELDS:
                self.fund[field] += amounts[field]
            for field in PERSONAL_FIELDS:
                self.personal[field] += amounts[field]
            if result.get("route") != "manual":  # paid by the insured location itself
                cell = (
                    self.names(result["insured_region"]),
                    self.names(result["treatment_region"]),
                )
                self.matrix[cell] += amounts["fund_pay_sumamt"]
        return True

    def snapshot(self, lag: int | None = None) -> dict[str, Any]:
        ordered = sorted(delay for _, _, delay in self.latencies)
        insured = sorted({i for i, _ in self.matrix})
        treatment = sorted({t for _, t in self.matrix})
        return {
            "results": sum(self.statuses.values()),
            "settled": self.statuses["SETTLED"],
            "rejected": self.statuses["REJECTED"],
            "reversed": self.statuses["REVERSED"],
            "duplicates_ignored": self.duplicates,
            "duplicate_settles_reemitted": self.reemitted,
            "undecodable": self.undecodable,
            "reasons": dict(sorted(self.reasons.items(), key=lambda r: (-r[1], r[0]))),
            "per_minute": [
                {
                    "minute": minute_start(minute).strftime("%H:%M"),
                    "start": minute_start(minute).isoformat(),
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
