"""The clearing service's handler (SETTLEMENT_RULES §6) without Kafka: results in,
per-period, per-province-pair lines out; closing a period freezes it."""

from datetime import date
from decimal import Decimal

import pytest
from clearing_records import CLOSED_AT, EVENT, Service, register_entries, result

from xsettle.clearing.location import (
    ClearingError,
    next_period,
    statement_line,
    statement_record,
)
from xsettle.clearing.reconcile import cleared, payouts, reconcile, summary
from xsettle.engine.clearing import CLEARED_AMOUNTS, statement
from xsettle.exchange.contract.codec import AvroCodec
from xsettle.traffic import TrafficMix, generate_day


def test_a_settlement_counts_once_however_often_it_is_delivered() -> None:
    service = Service()
    assert service.take(result("a")) == "counted"
    assert service.take(result("a")) == "redelivered"
    assert service.take(result("b", claim="C2", fund="50.50", acct="0")) == "counted"
    [line] = service.lines("2025-03")
    assert line == {
        "period": "2025-03",
        "insured_province": "320000",
        "treatment_province": "440000",
        "settled": 2,
        "reversed": 0,
        "medfee_sumamt": "180.50",
        "hifp_pay": "150.50",
        "hifmi_pay": "0.00",
        "maf_pay": "0.00",
        "fund_pay_sumamt": "150.50",
        "acct_pay": "20.00",
        "psn_cash_pay": "10.00",
        "owed": "170.50",
    }


def test_a_re_emitted_duplicate_and_a_rejection_are_not_counted() -> None:
    service = Service()
    service.take(result("a"))
    assert service.take(result("dup", duplicate_of="a")) == "duplicate"
    assert service.take(result("rej", "REJECTED")) == "not cleared"
    assert service.lines("2025-03")[0]["settled"] == 1


def test_a_reversal_counts_in_the_month_of_the_settlement_it_reverses() -> None:
    service = Service()
    service.take(result("a", day=date(2025, 3, 31)))
    # Even if a reversal carried another date, the settlement's month decides.
    assert service.take(result("r", "REVERSED", day=date(2025, 4, 1))) == "counted"
    [line] = service.lines("2025-03")
    assert (line["settled"], line["reversed"], line["owed"]) == (1, 1, "0.00")
    assert service.lines("2025-04") == []
    # Settled again after the reversal: a new settlement in its own month.
    service.take(result("a2", day=date(2025, 4, 3)))
    assert service.lines("2025-04")[0]["settled"] == 1


def test_manual_reimbursements_and_their_reversals_are_not_cleared() -> None:
    service = Service()
    assert service.take(result("m", route="manual")) == "manual"
    assert service.take(result("mr", "REVERSED")) == "manual"  # the reversal has no route
    assert service.lines("2025-03") == []


def test_lines_are_summed_over_partitions() -> None:
    service = Service()
    service.take(result("a", person="P1"), partition=0)
    service.take(result("b", person="P2"), partition=5)
    [line] = service.lines("2025-03")
    assert line["settled"] == 2 and line["owed"] == "240.00"


def test_a_late_reversal_after_close_is_an_adjustment_of_the_next_open_period() -> None:
    service = Service()
    service.take(result("a"))
    service.take(result("b", claim="C2", person="P2"))
    closed = service.close("2025-03")
    assert [line["settled"] for line in closed] == [2]
    assert service.clearing.view("2025-03")["state"] == "closed"
    applied = service.clearing.take_result(result("r", "REVERSED"), 0, EVENT)
    service.end_batch()
    assert (applied.period, applied.adjusts) == ("2025-04", "2025-03")
    assert service.clearing.view("2025-03")["lines"] == closed  # a closed period never changes
    [adjustment] = service.lines("2025-04")
    assert adjustment["adjusts"] == "2025-03"
    assert (adjustment["settled"], adjustment["reversed"], adjustment["owed"]) == (0, 1, "-120.00")
    # Closing again re-publishes the very same lines.
    assert service.close("2025-03") == closed
    # With April closed too, a late result of March lands in May.
    service.close("2025-04")
    service.take(result("late", claim="C3", day=date(2025, 3, 2)))
    [late] = service.lines("2025-05")
    assert late["adjusts"] == "2025-03" and late["settled"] == 1
    assert service.clearing.view("2025-04")["lines"] == [adjustment]


def test_closing_in_the_middle_of_a_batch_includes_the_batch_s_earlier_results() -> None:
    service = Service()
    service.clearing.take_result(result("a"), 0, EVENT)
    lines, _ = service.clearing.close("2025-03", CLOSED_AT, EVENT)
    applied = service.clearing.take_result(result("b", claim="C2"), 1, EVENT)
    service.end_batch()
    assert [line["settled"] for line in lines] == [1]
    assert applied.adjusts == "2025-03"


def test_a_cleared_result_without_its_claim_date_is_refused() -> None:
    with pytest.raises(ClearingError):
        Service().take(result("a", day=None))
    with pytest.raises(ClearingError):
        Service().close("2025-13")


def test_statement_lines_travel_as_avro_and_read_back_as_published() -> None:
    service = Service()
    service.take(result("a"))
    service.close("2025-03")
    service.take(result("r", "REVERSED"))
    codec = AvroCodec("clearing_statement")
    for line in service.lines("2025-04"):
        decoded = codec.decode(codec.encode(statement_record(line, CLOSED_AT)))
        assert statement_line(decoded) == line
        assert decoded["closed_at"] == CLOSED_AT


def test_next_period_wraps_the_year() -> None:
    assert next_period("2025-12") == "2026-01"
    assert next_period("2025-03") == "2025-04"


# 对账: the treatment location's payouts against the insured location's results.


DAY_RESULTS = [
    result("a"),
    result("b", claim="C2"),
    result("dup", claim="C2", duplicate_of="b"),
    result("m", claim="C3", route="manual"),
    result("rb", "REVERSED", claim="C2", day=None),
    result("c", claim="C4", person="P2", fund="70.00"),
    result("x", claim="C5", day=date(2025, 4, 1)),
]


def test_the_treatment_register_records_the_payouts_that_the_results_clear() -> None:
    insured = cleared(DAY_RESULTS)
    treatment = cleared(payouts(register_entries(DAY_RESULTS)))
    assert sorted(insured, key=lambda p: p.result_id) == sorted(
        treatment, key=lambda p: p.result_id
    )
    assert {p.result_id for p in insured} == {"a", "b", "rb", "c", "x"}
    assert {p.period for p in insured if p.result_id == "rb"} == {"2025-03"}
    lines, differences = reconcile(insured, treatment, "2025-03")
    assert differences == [] and [line["agree"] for line in lines] == [True]
    assert lines[0]["insured"]["settled"] == 3 and lines[0]["insured"]["reversed"] == 1
    assert summary("2025-03", lines, differences).endswith(
        "agree on 1 province pairs (210.00 owed)"
    )


def test_a_dropped_result_is_found_as_exactly_its_claim() -> None:
    insured = cleared(DAY_RESULTS)
    treatment = [p for p in cleared(payouts(register_entries(DAY_RESULTS))) if p.result_id != "c"]
    lines, differences = reconcile(insured, treatment, "2025-03")
    assert [(d["person_id"], d["claim_id"], d["difference"]) for d in differences] == [
        ("P2", "C4", "only at the insured location")
    ]
    assert [line["agree"] for line in lines] == [False]
    assert "1 only at the insured location" in summary("2025-03", lines, differences)


def test_amounts_that_differ_and_a_claim_settled_twice_are_listed() -> None:
    insured = cleared([result("a"), result("a2")])  # two settlements, no reversal between
    treatment = cleared([result("a", fund="99.00"), result("a2")])
    _, differences = reconcile(insured, treatment, "2025-03")
    kinds = sorted((d["difference"], d.get("side", "")) for d in differences)
    assert kinds == [
        ("amounts differ", ""),
        ("settled twice", "insured"),
        ("settled twice", "treatment"),
    ]


@pytest.mark.parametrize("seed", [3, 14, 2025])
def test_the_service_fed_a_generated_day_s_results_equals_the_offline_statement(
    seed: int,
) -> None:
    """A generated day's results (settlements, reversals, duplicates, manual ones), as
    the insured location publishes them, in any partition, delivered twice: the
    service's lines are §6's statement, whose totals are the sums of the results."""
    scenario = generate_day(claims=300, persons=25, seed=seed, mix=TrafficMix(life_cycle=0.3))
    exchange = scenario.exchange()
    service = Service()
    facts = []
    for index, event in enumerate(scenario.events):
        fact = exchange.step(event)[1]
        if fact is None:
            continue
        facts.append(fact)
        outcome = fact.result
        assert outcome.amounts is not None
        settled = outcome.status.value == "SETTLED"
        record = {
            "result_id": f"r{index}",
            "status": outcome.status.value,
            "person_id": event["person_id"],
            "claim_id": outcome.claim_id,
            "amounts": {name: getattr(outcome.amounts, name) for name in CLEARED_AMOUNTS},
            "insured_region": fact.insured_region,
            "treatment_region": fact.treatment_region,
            "duplicate_of": None if fact.changed_state else "earlier",
            # A reversal names no route: the service remembers the settlement's.
            "route": fact.route.value if settled and fact.route.value == "manual" else None,
            "date": fact.claim_date,
        }
        partition = sum(event["person_id"].encode()) % 4
        service.take(record, partition)
        assert service.take(record, partition) in ("redelivered", "duplicate", "not cleared")
    expected = [line.to_record() for line in statement(facts)]
    assert expected, "the day clears something"
    periods = sorted({line["period"] for line in expected})
    assert [line for period in periods for line in service.lines(period)] == expected
    cleared_results = [f.result for f in facts if f.cleared]
    for name in CLEARED_AMOUNTS:
        assert sum(Decimal(line[name]) for line in expected) == sum(
            getattr(result.amounts, name) for result in cleared_results
        )
