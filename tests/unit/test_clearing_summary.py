"""The clearing part of ``xsettle run``'s report: a period's statement summed per province."""

from xsettle.pipeline.clearing_summary import statement_table
from xsettle.presentation import RegionNames
from xsettle.scenario import Scenario


def _line(insured: str, treatment: str, owed: str, settled: int = 1) -> dict[str, object]:
    return {
        "period": "2025-06",
        "insured_province": insured,
        "treatment_province": treatment,
        "settled": settled,
        "reversed": 0,
        "owed": owed,
    }


def test_each_province_owes_as_insured_is_owed_as_treatment_and_nets_the_two() -> None:
    names = RegionNames(
        Scenario.model_validate(
            {"policies": [{"region": "110000", "name": "北京市"}], "catalogs": [], "persons": []}
        )
    )
    lines = [
        _line("110000", "440000", "100.10", settled=3),
        _line("440000", "110000", "30.05"),
        _line("440000", "440000", "7.00"),
    ]
    title, table = statement_table("2025-06", lines, names, "xsettle.clearing-statements.v1")
    assert title == (
        "clearing (清算) 2025-06: closed, 3 statement lines on xsettle.clearing-statements.v1 "
        "(5 settlements, 0 reversals, 137.15 owed):"
    )
    rows = [line.split() for line in table.splitlines()]
    assert ["北京市", "110000", "100.10", "30.05", "-70.05"] in rows
    assert ["440000", "37.05", "107.10", "70.05"] in rows
    assert ["total", "137.15", "137.15", "0.00"] in rows
