"""Clearing statements (SETTLEMENT_RULES §6), with a month computed by hand."""

from datetime import date
from decimal import Decimal
from typing import Any

from xsettle.engine import Result, Route, Status
from xsettle.engine.clearing import ClearingFacts, statement
from xsettle.engine.results import Amounts
from xsettle.scenario import validate_scenario

BENEFIT = {
    "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
    "ratio": {"m": {1: "0.5", 2: "0.5", 3: "0.5"}},
}


def _policy(region: str, **extra: Any) -> dict[str, Any]:
    return {"region": region, "schemes": {"employee": {"inpatient": BENEFIT}}, **extra}


SCENARIO = {
    "policies": [
        _policy("320300", personal_account_schemes=["employee"]),  # 徐州, 江苏
        _policy("210700"),  # 锦州, 辽宁
        _policy("150500", connected=False),  # 通辽, 内蒙古: manual reimbursement only
    ],
    "catalogs": [
        {"region": "440100", "items": [{"code": "A", "class": "A"}]},
        {"region": "110000", "items": [{"code": "A", "class": "A"}]},
    ],
    "persons": [
        {
            "person_id": "P1",
            "insured_region": "320300",
            "scheme": "employee",
            "member_type": "m",
            "account_balance": "100.00",
            "filings": [
                {"type": "long_term", "treatment_region": "440000", "valid_from": "2025-01-01"}
            ],
        },
        {
            "person_id": "P2",
            "insured_region": "210700",
            "scheme": "employee",
            "member_type": "m",
            "filings": [
                {
                    "type": "referral",
                    "treatment_region": "110000",
                    "valid_from": "2025-01-01",
                    "valid_to": "2025-12-31",
                }
            ],
        },
        {"person_id": "P3", "insured_region": "150500", "scheme": "employee", "member_type": "m"},
    ],
}


def _claim(
    claim_id: str, person: str, region: str, day: str, amount: str, kind: str = "settle"
) -> dict[str, Any]:
    return {
        "kind": kind,
        "claim_id": claim_id,
        "person_id": person,
        "treatment_region": region,
        "institution_level": 3,
        "medical_type": "inpatient",
        "date": day,
        "lines": [{"code": "A", "unit_price": amount, "quantity": "1"}],
    }


def _reverse(claim_id: str, person: str) -> dict[str, Any]:
    return {"kind": "reverse", "claim_id": claim_id, "person_id": person}


EVENTS = [
    # 50% from the first yuan. C1: fund 500, account 100 (all of it), cash 400
    _claim("C1", "P1", "440106", "2025-03-10", "1000.00"),
    _claim("C1", "P1", "440106", "2025-03-10", "1000.00"),  # a duplicate: not counted
    _claim("C2", "P1", "440106", "2025-03-31", "200.00"),  # fund 100, account 0, cash 100
    {"kind": "enrol", "person_id": "P1", "account_credit": "20.00"},
    _reverse("C1", "P1"),  # counted in March, the month of the settlement it reverses
    _claim("C1", "P1", "440106", "2025-04-02", "300.00"),  # anew: fund 150, account 120
    _claim("D1", "P2", "110105", "2025-03-15", "2000.00"),  # 辽宁 → 北京: fund 1000
    _claim("M1", "P1", "440106", "2025-03-20", "500.00", kind="manual"),  # not cleared
    _reverse("M1", "P1"),  # nor its reversal
    _claim("M2", "P3", "440106", "2025-03-20", "500.00", kind="manual"),
    _claim("X1", "P1", "440106", "2025-03-05", "-1"),  # malformed
    _claim("X2", "P3", "440106", "2025-03-05", "100.00"),  # not connected: rejected
    _reverse("C1", "nobody"),
]


def _statement(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    exchange = validate_scenario(SCENARIO).exchange()
    facts = [facts for event in events if (facts := exchange.step(event)[1]) is not None]
    return [line.to_record() for line in statement(facts)]


def test_a_month_of_clearing_by_hand() -> None:
    assert _statement(EVENTS) == [
        {
            "period": "2025-03",
            "insured_province": "210000",
            "treatment_province": "110000",
            "settled": 1,
            "reversed": 0,
            "medfee_sumamt": "2000.00",
            "hifp_pay": "1000.00",
            "hifmi_pay": "0.00",
            "maf_pay": "0.00",
            "fund_pay_sumamt": "1000.00",
            "acct_pay": "0.00",
            "psn_cash_pay": "1000.00",
            "owed": "1000.00",
        },
        {
            # C1 + C2 − C1: 1000 + 200 − 1000; fund 500 + 100 − 500; account 100 + 0 − 100
            "period": "2025-03",
            "insured_province": "320000",
            "treatment_province": "440000",
            "settled": 2,
            "reversed": 1,
            "medfee_sumamt": "200.00",
            "hifp_pay": "100.00",
            "hifmi_pay": "0.00",
            "maf_pay": "0.00",
            "fund_pay_sumamt": "100.00",
            "acct_pay": "0.00",
            "psn_cash_pay": "100.00",
            "owed": "100.00",
        },
        {
            # C1 again: fund 150; account min(120, 150) = 120; cash 30
            "period": "2025-04",
            "insured_province": "320000",
            "treatment_province": "440000",
            "settled": 1,
            "reversed": 0,
            "medfee_sumamt": "300.00",
            "hifp_pay": "150.00",
            "hifmi_pay": "0.00",
            "maf_pay": "0.00",
            "fund_pay_sumamt": "150.00",
            "acct_pay": "120.00",
            "psn_cash_pay": "30.00",
            "owed": "270.00",
        },
    ]


def test_a_pair_whose_money_nets_to_zero_still_has_its_line() -> None:
    (line,) = _statement([EVENTS[0], EVENTS[4]])
    assert (line["settled"], line["reversed"], line["owed"]) == (1, 1, "0.00")
    assert line["medfee_sumamt"] == "0.00"  # never "-0.00"


def test_no_cleared_result_no_statement() -> None:
    assert _statement([]) == []
    assert _statement(EVENTS[7:]) == []  # manual, rejected and unknown results only


def test_a_duplicate_is_reported_as_not_changing_state() -> None:
    exchange = validate_scenario(SCENARIO).exchange()
    first, again = (exchange.step(event)[1] for event in EVENTS[:2])
    assert first is not None and again is not None
    assert (first.changed_state, again.changed_state) == (True, False)
    assert first.result == again.result and not again.cleared


def test_a_reversal_carries_the_facts_of_the_settlement_it_reverses() -> None:
    exchange = validate_scenario(SCENARIO).exchange()
    for event in EVENTS[:4]:
        exchange.step(event)
    _, facts = exchange.step(EVENTS[4])
    assert facts is not None and facts.result.status is Status.REVERSED
    assert (facts.claim_date, facts.treatment_region, facts.insured_region) == (
        date(2025, 3, 10),
        "440106",
        "320300",
    )
    assert facts.changed_state and facts.route is Route.DIRECT


def _facts(status: Status, sign: int, region: str, day: date, route: Route) -> ClearingFacts:
    value = Decimal(sign) * Decimal("10.005")  # unrounded on purpose: sums, then rounds
    amounts = Amounts(*([value] * 14))
    return ClearingFacts(
        Result("C", status, amounts=amounts), "320300", region, day, route, changed_state=True
    )


def test_statement_lines_are_sorted_by_period_then_provinces() -> None:
    facts = [
        _facts(Status.SETTLED, 1, "440106", date(2025, 4, 1), Route.DIRECT),
        _facts(Status.SETTLED, 1, "110105", date(2025, 4, 30), Route.DIRECT),
        _facts(Status.SETTLED, 1, "440106", date(2025, 3, 31), Route.DIRECT),
        _facts(Status.SETTLED, 1, "440106", date(2025, 3, 31), Route.MANUAL),
    ]
    lines = [line.to_record() for line in statement(facts)]
    assert [(line["period"], line["treatment_province"]) for line in lines] == [
        ("2025-03", "440000"),
        ("2025-04", "110000"),
        ("2025-04", "440000"),
    ]
    assert lines[0]["owed"] == "20.01"  # 10.005 + 10.005, rounded half up once


def test_reversals_count_negative() -> None:
    facts = [
        _facts(Status.SETTLED, 1, "440106", date(2025, 3, 1), Route.DIRECT),
        _facts(Status.REVERSED, -1, "440106", date(2025, 3, 1), Route.DIRECT),
        _facts(Status.REVERSED, -1, "440106", date(2025, 3, 1), Route.DIRECT),
    ]
    (line,) = statement(facts)
    assert (line.settled, line.reversed) == (1, 2)
    assert line.to_record()["psn_cash_pay"] == "-10.01"  # −10.005 rounds half up in magnitude
