"""The CLI's contract: JSON Lines out, exit 0 for any loaded scenario, exit 2 with one
readable line (never a traceback) for a scenario that is itself invalid."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xsettle.cli import main

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract"
RETIRED = "policies[0].schemes.employee.inpatient.ratio.retired"
POLICY = """
policies:
  - region: "320300"
    schemes:
      employee:
        inpatient:
          deductible: {basis: per_visit, by_level: {1: 300, 2: 400, 3: 500}}
          ratio:
            retired: RATIO
catalogs: []
persons: PERSONS
events: []
"""


@pytest.mark.parametrize(
    ("ratio", "persons", "expected"),
    [
        (
            "[{upto: 10000, ratio: 1.5}, {upto: null, ratio: 0.9}]",
            "[]",
            f"{RETIRED}[0].ratio: must be between 0 and 1",
        ),
        (
            "[{upto: 10000, ratio: 0.5}, {upto: 5000, ratio: 0.6}, {upto: null, ratio: 0.9}]",
            "[]",
            f"{RETIRED}: bands must be ascending by upto",
        ),
        (
            "[{upto: 10000, ratio: 0.5}]",
            "[]",
            f"{RETIRED}: the last band must have upto: null (no end)",
        ),
        (
            "{1: 0.9, 2: 0.8, 3: 0.7}",
            "[{person_id: a, insured_region: '320300', scheme: employee, member_type: retired},"
            " {person_id: a, insured_region: '320300', scheme: employee, member_type: retired}]",
            "persons[1].person_id: person 'a' is listed twice",
        ),
        (
            "{1: 0.9, 2: 0.8, 3: 0.7, colour: red}",
            "[]",
            f"{RETIRED}.colour[key]: must be a valid integer, unable to parse string as an integer",
        ),
    ],
)
def test_an_invalid_scenario_exits_2_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ratio: str, persons: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(POLICY.replace("RATIO", ratio).replace("PERSONS", persons))
    assert main(["settle", "--scenario", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"xsettle: {expected}\n"


def test_missing_file_and_broken_yaml_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("policies: [\n")
    for path, words in ((tmp_path / "nope.yaml", "cannot read"), (broken, "not valid YAML")):
        run = subprocess.run(
            [sys.executable, "-m", "xsettle.cli", "settle", "--scenario", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 2
        assert run.stdout == ""
        assert len(run.stderr.strip().splitlines()) == 1 and words in run.stderr
        assert "Traceback" not in run.stderr


def test_the_example_prints_json_lines_and_exits_0() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "xsettle.cli",
            "settle",
            "--scenario",
            str(CONTRACT / "example-scenario.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(lines) == 13
    assert lines[-1]["reason"] == "INVALID_CLAIM"
