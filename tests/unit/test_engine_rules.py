"""Each settlement rule pinned with figures computed by hand (SETTLEMENT_RULES §3–§4)."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xsettle.engine import Catalog, CatalogItem, Reason, covering_catalog, split_line
from xsettle.engine.regions import covers
from xsettle.scenario import load_scenario, validate_scenario

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract"
D = Decimal


def _item(**fields: Any) -> CatalogItem:
    return CatalogItem.model_validate({"code": "X", **fields})


# --- catalog split ------------------------------------------------------------------


def test_class_a_is_fully_in_scope() -> None:
    split = split_line(_item(**{"class": "A"}), D("120.00"), D("3"))
    assert (split.amount, split.inscp_scp_amt) == (D("360.00"), D("360.00"))


def test_class_b_pays_its_self_pay_share_first() -> None:
    # 45.50 × 20 = 910.00; 先行自付 10% = 91.00; in scope 819.00
    split = split_line(_item(**{"class": "B", "self_pay_ratio": "0.10"}), D("45.50"), D("20"))
    assert (split.preselfpay_amt, split.inscp_scp_amt) == (D("91.00"), D("819.00"))


def test_over_the_price_limit_is_self_paid_before_the_b_share() -> None:
    # 36 × 10 = 360; over = (36 − 30) × 10 = 60; pre = (360 − 60) × 5% = 15; in scope 285
    item = _item(**{"class": "B", "self_pay_ratio": "0.05", "price_limit": "30.00"})
    split = split_line(item, D("36.00"), D("10"))
    assert (split.overlmt_selfpay, split.preselfpay_amt, split.inscp_scp_amt) == (
        D("60.00"),
        D("15.00"),
        D("285.00"),
    )


def test_class_c_and_unlisted_items_are_fully_self_paid() -> None:
    assert split_line(_item(**{"class": "C"}), D("260"), D("1")).fulamt_ownpay_amt == D("260.00")
    assert split_line(None, D("18.80"), D("2")).fulamt_ownpay_amt == D("37.60")


def test_line_amounts_round_half_up_to_the_fen() -> None:
    # 12.345 × 3.5 = 43.2075 → 43.21; B 10%: 4.321 → 4.32
    split = split_line(_item(**{"class": "B", "self_pay_ratio": "0.10"}), D("12.345"), D("3.5"))
    assert (split.amount, split.preselfpay_amt) == (D("43.21"), D("4.32"))
    assert split_line(None, D("0.005"), D("1")).amount == D("0.01")  # .005 rounds up


# --- regions ------------------------------------------------------------------------


def test_coverage_by_province_city_and_district() -> None:
    assert covers("440000", "440106") and covers("440100", "440106")
    assert covers("440106", "440106") and not covers("440100", "440206")
    assert not covers("430000", "440106")


def test_the_most_specific_catalog_wins() -> None:
    catalogs = [Catalog(region=r, items=[]) for r in ("440000", "440100", "440106")]
    assert covering_catalog(catalogs, "440106").region == "440106"  # type: ignore[union-attr]
    assert covering_catalog(catalogs, "440105").region == "440100"  # type: ignore[union-attr]
    assert covering_catalog(catalogs, "441300").region == "440000"  # type: ignore[union-attr]
    assert covering_catalog(catalogs, "430100") is None


# --- the computation, through whole claims ------------------------------------------


def _scenario(benefit: dict[str, Any], events: list[dict[str, Any]], **policy: Any) -> list[dict]:
    document = {
        "policies": [
            {"region": "320300", "schemes": {"employee": {"inpatient": benefit}}, **policy}
        ],
        "catalogs": [{"region": "440100", "items": [{"code": "A", "class": "A"}]}],
        "persons": [
            {
                "person_id": "P",
                "insured_region": "320300",
                "scheme": "employee",
                "member_type": "m",
                "account_balance": "100.00",
                "assistance_group": "poor",
                "filings": [
                    {
                        "type": "long_term",
                        "treatment_region": "440000",
                        "valid_from": "2025-01-01",
                        "valid_to": None,
                    }
                ],
            }
        ],
    }
    exchange = validate_scenario(document).exchange()
    return [exchange.process(event).to_record() for event in events]


def _claim(claim_id: str, amount: str, level: int = 3, date: str = "2025-03-01") -> dict:
    return {
        "kind": "settle",
        "claim_id": claim_id,
        "person_id": "P",
        "treatment_region": "440106",
        "institution_level": level,
        "medical_type": "inpatient",
        "date": date,
        "lines": [{"code": "A", "unit_price": amount, "quantity": "1"}],
    }


PER_VISIT = {
    "basis": "per_visit",
    "by_level": {1: 300, 2: 400, 3: 500},
    "repeat_step": 100,
    "floor": 300,
}


def test_per_visit_deductible_steps_down_to_its_floor() -> None:
    benefit = {"deductible": PER_VISIT, "ratio": {"m": {1: 1, 2: 1, 3: 1}}}
    results = _scenario(benefit, [_claim(f"C{n}", "1000.00") for n in range(4)])
    # 500, 500 − 100, 500 − 200 = 300, then max(min(500, 300), 500 − 300) = 300
    assert [r["act_pay_dedc"] for r in results] == ["500.00", "400.00", "300.00", "300.00"]


def test_annual_deductible_is_paid_once_a_year() -> None:
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 1000, 2: 1000, 3: 1000}},
        "ratio": {"m": {1: "0.5", 2: "0.5", 3: "0.5"}},
    }
    results = _scenario(
        benefit,
        [_claim("C1", "800.00"), _claim("C2", "700.00"), _claim("C3", "100.00", date="2026-01-02")],
    )
    assert [r["act_pay_dedc"] for r in results] == ["800.00", "200.00", "100.00"]
    assert results[1]["hifp_pay"] == "250.00"  # (700 − 200) × 50%


def test_bands_pay_marginally() -> None:
    bands = [
        {"upto": 4000, "ratio": "0.35"},
        {"upto": 9000, "ratio": "0.45"},
        {"upto": None, "ratio": "0.55"},
    ]
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
        "ratio": {"m": bands},
    }
    # 4000 × 35% + 5000 × 45% + 1000 × 55% = 1400 + 2250 + 550
    assert _scenario(benefit, [_claim("C", "10000.00")])[0]["hifp_pay"] == "4200.00"


def test_filing_adjustment_is_clamped_to_zero_and_one() -> None:
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
        "ratio": {"m": {1: "0.95", 2: "0.05", 3: "0.5"}},
    }
    up = _scenario(
        benefit, [_claim("C", "100.00", level=1)], filing_adjustment={"long_term": "0.10"}
    )
    down = _scenario(
        benefit, [_claim("C", "100.00", level=2)], filing_adjustment={"long_term": "-0.10"}
    )
    assert up[0]["hifp_pay"] == "100.00" and down[0]["hifp_pay"] == "0.00"


def test_annual_cap_limits_the_pooled_fund() -> None:
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
        "ratio": {"m": {1: 1, 2: 1, 3: 1}},
        "annual_cap": 1500,
    }
    results = _scenario(
        benefit, [_claim("C1", "1000.00"), _claim("C2", "1000.00"), _claim("C3", "1000.00")]
    )
    assert [r["hifp_pay"] for r in results] == ["1000.00", "500.00", "0.00"]


def test_critical_illness_pays_above_the_threshold_across_claims_then_assistance() -> None:
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
        "ratio": {"m": {1: "0.5", 2: "0.5", 3: "0.5"}},
    }
    layer = {
        "schemes": ["employee"],
        "threshold": 1000,
        "bands": [{"upto": 500, "ratio": "0.6"}, {"upto": None, "ratio": "0.8"}],
    }
    results = _scenario(
        benefit,
        [_claim("C1", "1600.00"), _claim("C2", "1000.00")],
        critical_illness=layer,
        medical_assistance={"groups": {"poor": "0.5"}, "annual_cap": 300},
    )
    # C1: fund 800, burden 0 → 800, below the threshold: no layer;
    #     assistance (1600 − 800 − 0) × 50% = 400, capped at 300
    # C2: fund 500, burden 800 → 1300: 300 above the threshold, all in band 1: 180;
    #     assistance (1000 − 500 − 180) × 50% = 160, but nothing of the cap is left
    assert [r["hifmi_pay"] for r in results] == ["0.00", "180.00"]
    assert [r["maf_pay"] for r in results] == ["300.00", "0.00"]


def test_personal_account_pays_first_and_reversal_refunds_it() -> None:
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
        "ratio": {"m": {1: "0.5", 2: "0.5", 3: "0.5"}},
    }
    results = _scenario(
        benefit,
        [
            _claim("C1", "300.00"),
            {"kind": "reverse", "claim_id": "C1", "person_id": "P"},
            {"kind": "reverse", "claim_id": "C1", "person_id": "P"},
            _claim("C1", "300.00"),
        ],
        personal_account_schemes=["employee"],
    )
    settled, reversed_, again, resettled = results
    assert (settled["acct_pay"], settled["psn_cash_pay"], settled["balc"]) == (
        "100.00",
        "50.00",
        "0.00",
    )
    assert reversed_["status"] == "REVERSED" and reversed_["acct_pay"] == "-100.00"
    assert reversed_["balc"] == "100.00" and reversed_["fulamt_ownpay_amt"] == "0.00"
    assert again["reason"] == "ALREADY_REVERSED"
    assert resettled == settled  # a reversed claim is processed anew


def test_rejection_reasons_in_the_order_of_the_rules() -> None:
    scenario = load_scenario(CONTRACT / "example-scenario.yaml")
    exchange = scenario.exchange()
    base = {
        "kind": "settle",
        "claim_id": "X",
        "person_id": "P-XZ-001",
        "treatment_region": "440106",
        "institution_level": 3,
        "medical_type": "inpatient",
        "date": "2025-03-10",
        "lines": [{"code": "XA01", "unit_price": "1", "quantity": "1"}],
    }
    cases = [
        ({**base, "lines": []}, Reason.INVALID_CLAIM),
        (
            {**base, "treatment_region": "650102", "person_id": "nobody"},
            Reason.TREATMENT_REGION_NOT_CONNECTED,
        ),
        ({**base, "person_id": "nobody"}, Reason.PERSON_NOT_FOUND),
        ({**base, "person_id": "P-TL-004"}, Reason.INSURANCE_INACTIVE),
        ({**base, "medical_type": "chronic"}, Reason.BENEFIT_NOT_DEFINED),
        (
            {**base, "person_id": "P-JZ-002", "date": "2025-08-01", "treatment_region": "110105"},
            Reason.FILING_NOT_VALID,
        ),
        ({**base, "treatment_region": "110105"}, Reason.NOT_FILED),
        (
            {"kind": "reverse", "claim_id": "never", "person_id": "P-XZ-001"},
            Reason.UNKNOWN_SETTLEMENT,
        ),
        ({"kind": "refund", "claim_id": "X"}, Reason.INVALID_CLAIM),
    ]
    for event, reason in cases:
        assert exchange.process(event).reason is reason, (event, reason)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"code": "A", "unit_price": "1", "quantity": "0"}]}, "lines[0].quantity"),
        ({"lines": [{"code": "A", "unit_price": "-1", "quantity": "1"}]}, "lines[0].unit_price"),
        (
            {"lines": [{"code": "A", "unit_price": "1.1234567", "quantity": "1"}]},
            "lines[0].unit_price",
        ),
        ({"lines": [{"code": "A", "unit_price": "1", "quantity": "1.00001"}]}, "lines[0].quantity"),
        # what the wire cannot carry is refused here, not discovered by the Avro encoder
        ({"lines": [{"code": "A", "unit_price": "1e12", "quantity": "1"}]}, "lines[0].unit_price"),
        ({"lines": [{"code": "A", "unit_price": "1", "quantity": "1e10"}]}, "lines[0].quantity"),
        ({"lines": [{"code": "A", "unit_price": "1e8", "quantity": "1e5"}]}, "lines[0]"),
        ({"lines": [{"code": "A", "unit_price": "1", "quantity": "1"}] * 1001}, "lines"),
        ({"date": "2025-02-30"}, "date"),
        ({"institution_level": 4}, "institution_level"),
        ({"medical_type": "dental"}, "medical_type"),
        ({"claim_id": 17}, "claim_id"),
    ],
)
def test_invalid_claims_name_the_field(change: dict[str, Any], field: str) -> None:
    event = {**_claim("C", "1.00"), **change}
    result = _scenario({"deductible": PER_VISIT, "ratio": {"m": {1: 1, 2: 1, 3: 1}}}, [event])[0]
    assert result["reason"] == "INVALID_CLAIM"
    assert result["message"].startswith(f"{field}:"), result["message"]
    assert result["claim_id"] == (None if field == "claim_id" else "C")


def test_floats_in_input_are_taken_exactly() -> None:
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
        "ratio": {"m": {1: 0.1, 2: 0.1, 3: 0.1}},
    }
    event = {**_claim("C", "0"), "lines": [{"code": "A", "unit_price": 0.1, "quantity": 3}]}
    # 0.1 × 3 = 0.30 exactly (a binary float would give 0.30000000000000004)
    result = _scenario(benefit, [event])[0]
    assert (result["medfee_sumamt"], result["hifp_pay"]) == ("0.30", "0.03")


def test_the_contract_example_to_the_fen() -> None:
    scenario = load_scenario(CONTRACT / "example-scenario.yaml")
    exchange = scenario.exchange()
    got = [exchange.process(event).to_record() for event in scenario.events]
    expected = [
        json.loads(line) for line in (CONTRACT / "example-results.jsonl").read_text().splitlines()
    ]
    for record in got:
        record.pop("message", None)
    assert got == expected


# --- claim_cap and the deductible's annual_max (§4 steps 1–2) -----------------------


def test_claim_cap_limits_one_claim_before_the_annual_cap() -> None:
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
        "ratio": {"m": {1: "0.5", 2: "0.5", 3: "0.5"}},
        "claim_cap": 400,
        "annual_cap": 1000,
    }
    results = _scenario(
        benefit,
        [
            _claim("C1", "1000.00"),  # 500 → 400 (claim cap)
            _claim("C2", "600.00"),  # 300, under both
            _claim("C3", "1000.00"),  # 500 → 400 (claim cap) → 300 (1000 − 700 left)
            _claim("C4", "1000.00"),  # nothing of the year is left
        ],
    )
    assert [r["hifp_pay"] for r in results] == ["400.00", "300.00", "300.00", "0.00"]
    # the claim cap does not shrink the in-scope amount: the rest is the person's
    assert results[0]["psn_part_amt"] == "600.00"


def test_claim_cap_alone_resets_with_every_claim() -> None:
    benefit = {
        "deductible": {"basis": "annual", "by_level": {1: 0, 2: 0, 3: 0}},
        "ratio": {"m": {1: 1, 2: 1, 3: 1}},
        "claim_cap": "250.50",
    }
    results = _scenario(benefit, [_claim(f"C{n}", "300.00") for n in range(3)])
    assert [r["hifp_pay"] for r in results] == ["250.50"] * 3


def test_annual_max_bounds_the_years_per_visit_deductibles() -> None:
    benefit = {
        "deductible": {"basis": "per_visit", "by_level": {1: 0, 2: 200, 3: 300}, "annual_max": 300},
        "ratio": {"m": {1: "0.7", 2: "0.6", 3: "0.6"}},
    }
    results = _scenario(
        benefit,
        [
            _claim("C1", "500.00", level=2),  # 200
            _claim("C2", "500.00", level=2),  # min(200, 300 − 200) = 100
            _claim("C3", "500.00", level=3),  # min(300, 300 − 300) = 0
            _claim("C4", "150.00", level=2, date="2026-01-05"),  # a new year: min(150, 200)
            _claim("C5", "500.00", level=3, date="2026-02-01"),  # min(300, 300 − 150) = 150
        ],
    )
    assert [r["act_pay_dedc"] for r in results] == ["200.00", "100.00", "0.00", "150.00", "150.00"]
    assert results[1]["hifp_pay"] == "240.00"  # (500 − 100) × 60%


def test_annual_max_counts_what_was_paid_and_a_reversal_gives_it_back() -> None:
    benefit = {
        "deductible": {"basis": "per_visit", "by_level": {1: 0, 2: 200, 3: 300}, "annual_max": 300},
        "ratio": {"m": {1: "0.7", 2: "0.6", 3: "0.6"}},
    }
    results = _scenario(
        benefit,
        [
            _claim("C1", "120.00", level=3),  # in scope below the deductible: 120 paid
            _claim("C2", "500.00", level=3),  # min(300, 300 − 120) = 180
            {"kind": "reverse", "claim_id": "C2", "person_id": "P"},
            _claim("C3", "500.00", level=3),  # 180 again
        ],
    )
    assert [r["act_pay_dedc"] for r in results] == ["120.00", "180.00", "-180.00", "180.00"]


def test_annual_max_applies_after_the_repeat_step() -> None:
    deductible = {**PER_VISIT, "annual_max": 1000}
    benefit = {"deductible": deductible, "ratio": {"m": {1: 1, 2: 1, 3: 1}}}
    results = _scenario(benefit, [_claim(f"C{n}", "1000.00") for n in range(4)])
    # 500, 400, then min(300, 1000 − 900) = 100, then 0
    assert [r["act_pay_dedc"] for r in results] == ["500.00", "400.00", "100.00", "0.00"]


def test_annual_max_and_repeat_step_belong_to_per_visit_deductibles() -> None:
    from xsettle.engine import Policy

    for key, value in (("annual_max", 300), ("repeat_step", 100)):
        deductible = {"basis": "annual", "by_level": {1: 0}, key: value}
        with pytest.raises(ValueError, match=f"{key} applies only to basis: per_visit"):
            Policy.model_validate(
                {
                    "region": "320300",
                    "schemes": {"e": {"inpatient": {"deductible": deductible, "ratio": {}}}},
                }
            )
