"""The dashboard's aggregation, without Kafka: dedupe, reversals, matrix, percentiles,
minutes across midnight, and figures that do not depend on the order results arrive in."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from xsettle.dashboard import figures as figures_module
from xsettle.dashboard import metrics
from xsettle.dashboard.figures import MINUTES_KEPT, Figures
from xsettle.engine.results import AMOUNT_FIELDS
from xsettle.presentation import RegionNames
from xsettle.scenario import Scenario

T0 = datetime(2025, 6, 16, 9, 30, tzinfo=UTC)


def _names() -> RegionNames:
    return RegionNames(
        Scenario.model_validate(
            {
                "policies": [{"region": "320300", "name": "徐州市"}],
                "catalogs": [{"region": "440100", "name": "广州市", "items": []}],
                "persons": [],
            }
        )
    )


def _result(
    result_id: str,
    status: str,
    fund: str = "0",
    personal: str = "0",
    delay_ms: int = 100,
    reason: str | None = None,
    submitted_at: datetime = T0,
) -> dict[str, Any]:
    amounts = None
    if status != "REJECTED":
        amounts = dict.fromkeys(AMOUNT_FIELDS, Decimal(0))
        amounts.update(
            fund_pay_sumamt=Decimal(fund),
            hifp_pay=Decimal(fund),
            psn_part_amt=Decimal(personal),
            psn_cash_pay=Decimal(personal),
        )
    return {
        "result_id": result_id,
        "status": status,
        "reason": reason,
        "amounts": amounts,
        "insured_region": "320300",
        "treatment_region": "440106",
        "submitted_at": submitted_at,
        "settled_at": submitted_at + timedelta(milliseconds=delay_ms),
    }


def test_duplicates_count_once_and_reversals_take_money_back() -> None:
    figures = Figures(_names())
    assert figures.ingest(_result("a", "SETTLED", "100.10", "20.05"))
    assert not figures.ingest(_result("a", "SETTLED", "100.10", "20.05"))  # re-emitted
    figures.ingest(_result("b", "SETTLED", "50.00", "5.00"))
    figures.ingest(_result("c", "REVERSED", "-50.00", "-5.00"))
    figures.ingest(_result("d", "REJECTED", reason="NOT_FILED"))
    snap = figures.snapshot(lag=3)
    assert (snap["settled"], snap["reversed"], snap["rejected"]) == (2, 1, 1)
    assert snap["duplicates_ignored"] == 1
    assert snap["fund"]["fund_pay_sumamt"] == "100.10"
    assert snap["personal"]["psn_part_amt"] == "20.05"
    assert snap["reasons"] == {"NOT_FILED": 1}
    assert snap["matrix"] == {
        "insured": ["徐州市 320300"],
        "treatment": ["广州市 440100"],
        "fund_paid": [["100.10"]],
    }
    assert snap["per_minute"] == [
        {
            "minute": "09:30",
            "start": "2025-06-16T09:30:00+00:00",
            "settled": 2,
            "rejected": 1,
            "reversed": 1,
        }
    ]
    assert snap["consumer_lag"] == 3


def test_a_duplicate_settles_answer_and_manual_money_are_not_cleared_twice() -> None:
    """The answer to a duplicate settle has its own id but re-emits a settlement already
    counted; a manual reimbursement is the fund's money but nobody's debt to a province."""
    figures = Figures(_names())
    figures.ingest(_result("a", "SETTLED", "100.00", "10.00"))
    figures.ingest({**_result("a-again", "SETTLED", "100.00", "10.00"), "duplicate_of": "a"})
    figures.ingest({**_result("m", "SETTLED", "30.00", "3.00"), "route": "manual"})
    snap = figures.snapshot(lag=0)
    assert snap["settled"] == 2 and snap["duplicate_settles_reemitted"] == 1
    assert snap["fund"]["fund_pay_sumamt"] == "130.00"
    assert snap["matrix"]["fund_paid"] == [["100.00"]]


def test_latency_percentiles_from_receipt_to_settlement() -> None:
    figures = Figures(_names())
    for n in range(1, 101):
        figures.ingest(_result(f"r{n}", "REJECTED", delay_ms=n, reason="NOT_FILED"))
    assert figures.snapshot()["latency_ms"] == {"p50": 50.0, "p95": 95.0, "p99": 99.0}


def test_prometheus_exposition() -> None:
    figures = Figures(_names())
    figures.ingest(_result("a", "SETTLED", "100.10", "20.05"))
    text = metrics.render(figures.snapshot(lag=0))
    assert 'xsettle_results_total{status="SETTLED"} 1' in text
    assert 'xsettle_fund_paid_yuan{fund="fund_pay_sumamt"} 100.10' in text
    assert (
        'xsettle_interprovincial_fund_paid_yuan{insured="徐州市 320300",'
        'treatment="广州市 440100"} 100.10'
    ) in text
    assert "xsettle_dashboard_consumer_lag 0" in text


def test_minutes_after_midnight_are_kept_and_the_oldest_evicted() -> None:
    """Keyed by clock time, 00:00 sorted before 23:59 and every new minute after
    midnight was the one evicted: the chart froze. Keyed by epoch minute, it moves on."""
    figures = Figures(_names())
    start = datetime(2025, 6, 16, 23, 0, tzinfo=UTC)
    minutes = MINUTES_KEPT + 30  # 23:00 on the 16th to 00:29 on the 17th
    for n in range(minutes):
        figures.ingest(
            _result(
                f"m{n}", "REJECTED", reason="NOT_FILED", submitted_at=start + timedelta(minutes=n)
            )
        )
    per_minute = figures.snapshot()["per_minute"]
    assert len(per_minute) == MINUTES_KEPT
    assert [m["minute"] for m in per_minute[:2]] == ["23:30", "23:31"]
    assert [m["minute"] for m in per_minute[-2:]] == ["00:28", "00:29"]
    assert per_minute[-1]["start"] == "2025-06-17T00:29:00+00:00"
    assert all(m["rejected"] == 1 for m in per_minute)


def test_figures_do_not_depend_on_arrival_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A restart or a replica reads the partitions interleaved differently; the figures
    must come out the same, even where only the newest minutes and latencies are kept."""
    results = [
        _result(
            f"r{n}",
            ("SETTLED", "REJECTED", "REVERSED")[n % 3],
            fund=str(n % 7),
            personal=str(n % 5),
            delay_ms=n % 97,
            reason="NOT_FILED" if n % 3 == 1 else None,
            submitted_at=T0 + timedelta(seconds=17 * n),
        )
        for n in range(400)
    ]
    results += results[::9]  # re-emitted duplicates
    monkeypatch.setattr(figures_module, "LATENCIES_KEPT", 100)
    shuffled = results[:]
    random.Random(7).shuffle(shuffled)
    one, other = Figures(_names()), Figures(_names())
    for result in results:
        one.ingest(result)
    for result in shuffled:
        other.ingest(result)
    assert len(one.snapshot()["per_minute"]) == MINUTES_KEPT  # some minutes were evicted
    assert len(one.latencies) == 100  # and some latencies
    assert one.snapshot() == other.snapshot()
