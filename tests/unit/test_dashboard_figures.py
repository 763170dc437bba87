"""The dashboard's aggregation, without Kafka: dedupe, reversals, matrix, percentiles."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from xsettle.dashboard import metrics
from xsettle.dashboard.figures import Figures
from xsettle.engine.results import AMOUNT_FIELDS
from xsettle.pipeline.report import RegionNames
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
        "submitted_at": T0,
        "settled_at": T0 + timedelta(milliseconds=delay_ms),
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
    assert snap["per_minute"] == [{"minute": "09:30", "settled": 2, "rejected": 1, "reversed": 1}]
    assert snap["consumer_lag"] == 3


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
