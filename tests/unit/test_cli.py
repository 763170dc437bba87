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


LIFECYCLE = """
policies:
  - region: "320300"
    schemes:
      employee:
        inpatient:
          deductible: {basis: annual, by_level: {1: 0, 2: 0, 3: 0}}
          ratio: {m: {1: 0.5, 2: 0.5, 3: 0.5}}
    personal_account_schemes: [employee]
catalogs:
  - {region: "440100", items: [{code: A, class: A}]}
persons: []
events:
  - {kind: enrol, person_id: P9, insured_region: "320300", scheme: employee, member_type: m,
     account_credit: "300.00"}
  - {kind: file, filing_id: F1, person_id: P9, type: temporary, treatment_region: "440000",
     date: 2025-08-31}
  - {kind: settle, claim_id: C1, person_id: P9, treatment_region: "440106", institution_level: 3,
     medical_type: inpatient, date: 2025-09-01, lines: [{code: A, unit_price: "100", quantity: 1}]}
  - {kind: cancel_filing, filing_id: F1, person_id: P9, date: 2025-09-02}
  - {kind: manual, claim_id: M1, person_id: P9, treatment_region: "440106", institution_level: 3,
     medical_type: inpatient, date: 2025-09-02, lines: [{code: A, unit_price: "100", quantity: 1}]}
  - {kind: file, filing_id: "", person_id: P9, type: long_term, treatment_region: "440000",
     date: 2025-09-03, valid_to: 2026-01-01}
"""


def test_settle_prints_the_life_cycle_shapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "lifecycle.yaml"
    path.write_text(LIFECYCLE)
    assert main(["settle", "--scenario", str(path)]) == 0
    enrolled, filed, settled, cancelled, manual, rejected = (
        json.loads(line) for line in capsys.readouterr().out.splitlines()
    )
    assert enrolled == {"person_id": "P9", "status": "ENROLLED", "balc": "300.00"}
    assert filed == {
        "filing_id": "F1",
        "status": "FILED",
        "person_id": "P9",
        "filing_type": "temporary",
        "treatment_region": "440000",
        "valid_from": "2025-08-31",
        "valid_to": "2026-02-27",
    }
    assert (settled["acct_pay"], settled["balc"]) == ("50.00", "250.00")
    assert cancelled == {
        "filing_id": "F1",
        "status": "FILING_CANCELLED",
        "person_id": "P9",
        "valid_to": "2025-09-01",
    }
    assert (manual["filing_type"], manual["route"], manual["balc"]) == (
        "unfiled",
        "manual",
        "250.00",
    )
    assert {key: rejected[key] for key in ("filing_id", "status", "reason")} == {
        "filing_id": None,
        "status": "REJECTED",
        "reason": "FILING_INVALID",
    }


def test_clearing_prints_the_statement_lines_sorted() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "xsettle.cli",
            "clearing",
            "--scenario",
            str(CONTRACT / "example-scenario.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    keys = [
        (line["period"], line["insured_province"], line["treatment_province"]) for line in lines
    ]
    assert keys == sorted(keys) and len(keys) == 6
    # 徐州 → 广东 in March: GZ-2025-0001 once (its duplicate re-emits), the account's 800 owed
    assert lines[1] == {
        "period": "2025-03",
        "insured_province": "320000",
        "treatment_province": "440000",
        "settled": 1,
        "reversed": 0,
        "medfee_sumamt": "2767.60",
        "hifp_pay": "1262.80",
        "hifmi_pay": "0.00",
        "maf_pay": "0.00",
        "fund_pay_sumamt": "1262.80",
        "acct_pay": "800.00",
        "psn_cash_pay": "704.80",
        "owed": "2062.80",
    }
    # GZ-2025-0002 settled and reversed in May: counted both ways, netting to zero
    assert (lines[4]["period"], lines[4]["settled"], lines[4]["reversed"]) == ("2025-05", 1, 1)
    assert lines[4]["owed"] == "0.00"


def test_clearing_an_invalid_scenario_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(POLICY.replace("RATIO", "[{upto: 10000, ratio: 0.5}]").replace("PERSONS", "[]"))
    assert main(["clearing", "--scenario", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"xsettle: {RETIRED}: the last band must have upto: null (no end)\n"
    assert main(["clearing", "--scenario", str(tmp_path / "missing.yaml")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_run_takes_a_positive_rate_or_a_burst(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (["--rate", "0"], ["--rate", "fast"], ["--rate", "10", "--burst"]):
        with pytest.raises(SystemExit) as stopped:
            main(["run", *bad])
        assert stopped.value.code == 2
    assert "must be a positive number of events/s" in capsys.readouterr().err


def test_a_day_too_long_for_the_embedded_broker_is_warned_about_first(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from xsettle.errors import XsettleError
    from xsettle.pipeline import demo

    def stop(**_: object) -> None:
        raise XsettleError("stopped before the day")

    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setattr(demo, "generate_day", stop)
    main(["run", "--claims", "500000"])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("xsettle: warning: 500,000 claims on the embedded broker")
    assert "KAFKA_BOOTSTRAP_SERVERS=localhost:29092 xsettle run --claims 500000" in lines[0]
    main(["run", "--claims", str(demo.EMBEDDED_DAY_LIMIT)])
    assert "warning" not in capsys.readouterr().err
