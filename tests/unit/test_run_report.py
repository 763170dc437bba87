"""The run report counts what a person reads: life-cycle outcomes, manual money, each
settlement once (a duplicate settle's answer re-emits one already counted)."""

from decimal import Decimal
from typing import Any

from xsettle.engine.results import AMOUNT_FIELDS
from xsettle.pipeline.report import RunReport
from xsettle.presentation import RegionNames
from xsettle.scenario import Scenario

NAMES = RegionNames(Scenario.model_validate({"policies": [], "catalogs": [], "persons": []}))


def _settled(result_id: str, fund: str, **extra: Any) -> dict[str, Any]:
    amounts = dict.fromkeys(AMOUNT_FIELDS, Decimal(0))
    amounts.update(fund_pay_sumamt=Decimal(fund), psn_part_amt=Decimal("1.00"))
    return {
        "result_id": result_id,
        "status": "SETTLED",
        "reason": None,
        "amounts": amounts,
        "insured_region": "320300",
        "treatment_region": "440106",
        "duplicate_of": None,
        "route": None,
        **extra,
    }


def _registry(
    kind: str, status: str, filing_type: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    return {"kind": kind, "status": status, "filing_type": filing_type, "reason": reason}


def test_life_cycle_outcomes_manual_money_and_duplicates() -> None:
    report = RunReport(NAMES)
    report.add(_settled("a", "100.00"))
    report.add(_settled("a-dup", "100.00", duplicate_of="a"))
    report.add(_settled("m", "30.00", route="manual"))
    report.add(_registry("file", "FILED", "temporary"))
    report.add(_registry("file", "FILED", "temporary"))
    report.add(_registry("file", "REJECTED", reason="FILING_SAME_PROVINCE"))
    report.add(_registry("enrol", "ENROLLED"))
    assert report.life_cycle == {
        ("file", "FILED temporary"): 2,
        ("file", "FILING_SAME_PROVINCE"): 1,
        ("enrol", "ENROLLED"): 1,
    }
    assert (report.manual.claims, report.manual.fund) == (1, Decimal("30.00"))
    money = next(iter(report.by_insured.values()))
    assert (money.claims, money.fund) == (2, Decimal("130.00"))
    text = report.render(events=7, seconds=1.0, latencies_ms=[1.0], dead_letters=0)
    assert "FILED temporary" in text and "manual reimbursements (手工报销): 1" in text


def test_the_latency_line_says_how_the_day_was_offered() -> None:
    report = RunReport(NAMES)
    report.add(_settled("a", "100.00"))
    paced = report.render(events=1, seconds=1.0, latencies_ms=[40.0], dead_letters=0, offered=600.0)
    assert "p99 40 ms at 600 events/s offered steadily" in paced
    burst = report.render(events=1, seconds=1.0, latencies_ms=[40.0], dead_letters=0)
    assert "--burst: the day is sent at once, so this is mostly queueing" in burst
