"""The packaged policy library says what the seeds say (issue 12).

Each correction of the fidelity table in ``services/xsettle/data/README.md`` is pinned by
settling the claim the table names through the packaged library, to the fen; and every
policy region must have its rows in that table.
"""

import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from xsettle import library
from xsettle.engine import Catalog, Policy
from xsettle.engine.offline import OfflineExchange
from xsettle.scenario import validate_scenario

README = Path(__file__).resolve().parents[2] / "services" / "xsettle" / "data" / "README.md"
TREATED_IN = "440106"  # 广州市天河区: the library's 广州 catalog covers it
ITEM = "002101020150000"  # 数字化X线摄影(DR): class A, no price limit, fully in scope


def _person(region: str, scheme: str, member_type: str, filing: str = "long_term") -> dict:
    return {
        "person_id": "P",
        "insured_region": region,
        "scheme": scheme,
        "member_type": member_type,
        "filings": [
            {
                "type": filing,
                "treatment_region": "440000",
                "valid_from": "2025-01-01",
                "valid_to": None if filing == "long_term" else "2025-12-31",
            }
        ],
    }


def _claim(n: int, amount: str, level: int, medical_type: str) -> dict:
    return {
        "kind": "settle",
        "claim_id": f"C{n}",
        "person_id": "P",
        "treatment_region": TREATED_IN,
        "institution_level": level,
        "medical_type": medical_type,
        "date": f"2025-03-{n + 1:02d}",
        "lines": [{"code": ITEM, "unit_price": amount, "quantity": "1"}],
    }


@cache
def _library() -> tuple[list[Policy], list[Catalog]]:
    return library.policies(), library.catalogs()


def _exchange(person: dict) -> OfflineExchange:
    """The offline round trip over the packaged library, with this one person."""
    policies, catalogs = _library()
    document = {"policies": policies, "catalogs": catalogs, "persons": [person]}
    return validate_scenario(document).exchange()


def _settle(
    person: dict, amounts: list[str], level: int, medical_type: str = "inpatient"
) -> list[dict[str, Any]]:
    """Settle one claim per amount, in order, through the packaged library."""
    exchange = _exchange(person)
    results = [
        exchange.process(_claim(n, amount, level, medical_type)).to_record()
        for n, amount in enumerate(amounts)
    ]
    for result, amount in zip(results, amounts, strict=True):
        if result["status"] == "SETTLED":
            assert result["inscp_scp_amt"] == f"{Decimal(amount):.2f}"  # all in scope
    return results


def _field(results: list[dict[str, Any]], name: str) -> list[str]:
    return [result[name] for result in results]


# --- 徐州 ----------------------------------------------------------------------------


@pytest.mark.parametrize("filing", ["temporary", "referral", "long_term"])
def test_xuzhou_resident_third_level_is_sixty_percent_for_every_filer(filing: str) -> None:
    # seed: 异地就医 三级医疗机构 统一为60%. 10,000 − 起付 1,800 = 8,200; × 60% = 4,920
    # (the library used to lower it by the filing adjustment: 8,200 × 50% = 4,100).
    [result] = _settle(_person("320300", "resident", "resident", filing), ["10000.00"], 3)
    assert result["filing_type"] == filing
    assert (result["act_pay_dedc"], result["hifp_pay"]) == ("1800.00", "4920.00")
    assert result["psn_part_amt"] == "5080.00"


@pytest.mark.parametrize("member_type", ["student", "aged_70_plus"])
def test_xuzhou_students_and_the_over_seventies_get_five_points_more(member_type: str) -> None:
    # seed: 70周岁(含)以上人员、大中小学生及儿童，支付比例再提高5%: 8,200 × 65% = 5,330
    person = _person("320300", "resident", member_type, "temporary")
    [result] = _settle(person, ["10000.00"], 3)
    assert result["hifp_pay"] == "5330.00"


def test_xuzhou_half_copay_groups_pay_half_the_band_share_and_the_whole_deductible() -> None:
    # seed: 低保、特困、重度残疾人员的个人分段自付比例按以上标准的50%执行 (三级: 500, 70%).
    # Personal share: 500 + 9,500 × 30% × 50% = 1,925 (assistance on the deductible too,
    # as the library had it, gave 1,675). The second stay: 400 + 9,600 × 15% = 1,840.
    person = _person("320300", "employee", "retired_half_copay")
    first, second = _settle(person, ["10000.00", "10000.00"], 3)
    assert (first["hifp_pay"], first["maf_pay"], first["psn_part_amt"]) == (
        "8075.00",
        "0.00",
        "1925.00",
    )
    assert (second["act_pay_dedc"], second["psn_part_amt"]) == ("400.00", "1840.00")
    [plain] = _settle(_person("320300", "employee", "retired"), ["10000.00"], 3)
    assert plain["psn_part_amt"] == "3350.00"  # 500 + 9,500 × 30%


# --- 锦州 ----------------------------------------------------------------------------


def test_jinzhou_caps_each_stay_not_the_year() -> None:
    # seed: 单次住院最高支付限额18万元. A stay of 250,000 at 三级: (250,000 − 600) × 65%
    # = 162,110, under the per-stay cap, and the second stay is paid the same (a yearly cap
    # of 180,000 left it 17,890). A stay of 300,000 would pay 194,610: capped at 180,000.
    results = _settle(
        _person("210700", "resident", "student"), ["250000.00", "250000.00", "300000.00"], 3
    )
    assert _field(results, "hifp_pay") == ["162110.00", "162110.00", "180000.00"]


def test_jinzhou_retirees_are_capped_at_100000_a_stay() -> None:
    # seed: 退休人员单次住院最高支付限额为10万元: (200,000 − 800) × 85% = 169,320 → 100,000
    results = _settle(_person("210700", "employee", "retired"), ["200000.00"] * 2, 3)
    assert _field(results, "hifp_pay") == ["100000.00", "100000.00"]


# --- 鄂尔多斯 ------------------------------------------------------------------------


def test_ordos_pays_a_retiree_at_most_1300_a_year_at_fifty_percent() -> None:
    # seed: 退休职工 年度最高支付限额1300元; 报销比例均为50%. Level 1 has no deductible:
    # 2,000 × 50% = 1,000, then 300 of the cap is left, then nothing (it used to reach 2,000).
    results = _settle(
        _person("150600", "employee", "retired"), ["2000.00", "2000.00", "2000.00"], 1, "outpatient"
    )
    assert _field(results, "hifp_pay") == ["1000.00", "300.00", "0.00"]


def test_ordos_in_service_staff_share_the_retirees_cap_as_the_table_says() -> None:
    # The documented approximation: one cap per scheme × medical type, the lower one kept.
    results = _settle(_person("150600", "employee", "in_service"), ["2000.00"] * 3, 1, "outpatient")
    assert _field(results, "hifp_pay") == ["1000.00", "300.00", "0.00"]


# --- 衡阳, 邵阳 ----------------------------------------------------------------------


@pytest.mark.parametrize("region", ["430400", "430500"])
def test_hunan_employee_outpatient_deductible_is_per_visit_up_to_300_a_year(region: str) -> None:
    # seed: 二级 起付200元 按60%, 三级 起付300元 按60%, 一级 不设起付标准 按70%;
    # 一个自然年度内，起付标准金额累计不超过300元.
    # 二级 500: 200, fund 180; 二级 500 again: min(200, 300 − 200) = 100, fund 240;
    # 三级 500: nothing of the 300 is left, fund 300; 一级 100: fund 70.
    exchange = _exchange(_person(region, "employee", "in_service"))
    visits = [(2, "500.00"), (2, "500.00"), (3, "500.00"), (1, "100.00")]
    results = [
        exchange.process(_claim(n, amount, level, "outpatient")).to_record()
        for n, (level, amount) in enumerate(visits)
    ]
    assert _field(results, "act_pay_dedc") == ["200.00", "100.00", "0.00", "0.00"]
    assert _field(results, "hifp_pay") == ["180.00", "240.00", "300.00", "70.00"]


# --- 青岛, 合肥 ----------------------------------------------------------------------


def test_qingdao_students_have_no_annual_cap() -> None:
    # seed: 大学生 全程85%(无年度限额): (200,000 − 1,000) × 85% = 169,150, twice
    results = _settle(_person("370200", "resident", "student"), ["200000.00"] * 2, 3)
    assert _field(results, "hifp_pay") == ["169150.00", "169150.00"]


def test_hefei_outpatient_is_not_a_benefit_at_the_third_level() -> None:
    # seed: 普通门诊 在一级及以下 60%, 合肥 延伸至二级; 三级 is outside 普通门诊统筹
    person = _person("340100", "resident", "resident")
    [third] = _settle(person, ["100.00"], 3, "outpatient")
    assert third["status"] == "REJECTED" and third["reason"] == "BENEFIT_NOT_DEFINED"
    [first] = _settle(person, ["100.00"], 1, "outpatient")
    assert first["hifp_pay"] == "60.00"


# --- the fidelity table ---------------------------------------------------------------


def _fidelity_rows() -> list[list[str]]:
    text = README.read_text("utf-8")
    section = text.split("## Fidelity table", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:]  # without the header


def _region(cell: str) -> str | None:
    code = re.search(r"\b\d{6}\b", cell)
    return code.group(0) if code else None


STATUSES = {"✓ matches", "✓ fixed", "≈ approximation", "✗ not expressible", "✗ not encoded"}


def test_every_policy_region_has_rows_in_the_fidelity_table() -> None:
    rows = _fidelity_rows()
    regions = {_region(row[0]) for row in rows}
    missing = {p.region: p.name for p in library.policies() if p.region not in regions}
    assert not missing, f"policy regions missing from the fidelity table: {missing}"


def test_every_fidelity_row_has_a_known_status_and_the_summary_adds_up() -> None:
    rows = _fidelity_rows()
    assert rows and all(len(row) == 5 for row in rows), [r for r in rows if len(r) != 5]
    statuses = [row[4].split(":")[0].split(" (")[0] for row in rows]
    assert set(statuses) <= STATUSES, set(statuses) - STATUSES
    summary = README.read_text("utf-8").split("Summary:", 1)[1].split("\n\n", 1)[0]
    for status in STATUSES:
        stated = re.search(re.escape(status) + r": (\d+)", summary)
        assert stated is not None, (status, summary)
        assert int(stated.group(1)) == statuses.count(status), (status, summary)
    assert f"({len(rows)} rows)" in summary


def test_illustrative_regions_say_so_in_their_file_and_in_the_table() -> None:
    marked = {_region(row[0]) for row in _fidelity_rows() if "illustrative region" in row[0]}
    assert marked == {"150500"}
    policies = README.parent / "policies"
    for path in policies.glob("*.yaml"):
        header = path.read_text("utf-8").split("\nregion:", 1)[0]
        assert ("ILLUSTRATIVE REGION" in header) == (path.name[:6] in marked), path.name
