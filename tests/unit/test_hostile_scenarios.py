"""Hostile scenario files (issue 11, item 5): each ends in one line on stderr and exit 2,
or in that one event's ``INVALID_CLAIM``, in bounded time and memory; never a traceback."""

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from xsettle.cli import main
from xsettle.engine.offline import OfflineExchange
from xsettle.scenario import _ExactLoader, _plain_data, parse_document

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract"
SCENARIO = """\
policies:
  - region: "320300"
    connected: true
    schemes:
      employee:
        inpatient:
          deductible: {basis: annual, by_level: {1: 0, 2: 0, 3: 0}}
          ratio: {m: {1: 0.5, 2: 0.5, 3: 0.5}}
catalogs:
  - {region: "440100", items: [{code: A, class: B, self_pay_ratio: 0.1, price_limit: LIMIT}]}
persons:
  - {person_id: P1, insured_region: "320300", scheme: employee, member_type: m,
     filings: [{type: long_term, treatment_region: "440000", valid_from: FROM}]}
events:
"""
SETTLE = (
    "  - {kind: settle, claim_id: C1, person_id: P1, treatment_region: '440106',"
    " institution_level: 3, medical_type: inpatient, date: DATE,"
    " lines: [{code: A, unit_price: PRICE, quantity: QUANTITY}]}\n"
)
REVERSE = "  - {kind: reverse, claim_id: C1, person_id: P1}\n"


def scenario(events: str, limit: str = "'30.00'", valid_from: str = "2024-01-01") -> str:
    return SCENARIO.replace("LIMIT", limit).replace("FROM", valid_from) + events


def settle(date: str = "2025-03-10", price: str = "'10'", quantity: str = "1") -> str:
    return SETTLE.replace("DATE", date).replace("PRICE", price).replace("QUANTITY", quantity)


def offline(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, name: str) -> tuple:
    """``xsettle settle`` in process: exit code, the JSON lines, stderr."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code = main(["settle", "--scenario", str(path)])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def refused(tmp_path: Path, name: str, content: str | bytes, timeout: float = 60) -> str:
    """``xsettle settle`` in a child process (a crash or a hang fails the test, not the
    run): asserts exit 2, nothing on stdout, one line on stderr; returns that line."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "xsettle.cli", "settle", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert (run.returncode, run.stdout) == (2, ""), run.stderr[-2000:]
    assert run.stderr.count("\n") == 1, run.stderr[-2000:]
    return run.stderr.removesuffix("\n")


# 1. An unquoted impossible date ----------------------------------------------------------


def test_an_impossible_yaml_date_in_an_event_is_that_events_invalid_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = scenario(settle(date="2025-02-30") + REVERSE)
    code, (first, second), err = offline(tmp_path, capsys, text, "date.yaml")
    assert (code, err) == (0, "")
    assert first == {
        "claim_id": "C1",
        "status": "REJECTED",
        "reason": "INVALID_CLAIM",
        "message": "date: '2025-02-30' is not a calendar day",
    }
    assert second["claim_id"] == "C1"  # the next event is still answered


def test_an_impossible_timestamp_or_valid_to_names_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = scenario(
        settle(date="2025-02-28T25:00:00")
        + "  - {kind: file, filing_id: F1, person_id: P1, type: temporary,"
        " treatment_region: '440000', date: 2025-03-01, valid_to: 2025-04-31}\n"
    )
    code, (claim, filing), err = offline(tmp_path, capsys, text, "timestamp.yaml")
    assert (code, err) == (0, "")
    assert (claim["reason"], claim["message"]) == (
        "INVALID_CLAIM",
        "date: must be a date written YYYY-MM-DD, not '2025-02-28T25:00:00'",
    )
    assert (filing["reason"], filing["message"]) == (
        "FILING_INVALID",
        "valid_to: '2025-04-31' is not a calendar day",
    )


def test_an_impossible_date_in_persons_is_one_scenario_line(tmp_path: Path) -> None:
    line = refused(tmp_path, "persons.yaml", scenario(settle(), valid_from="2024-02-30"))
    assert line == (
        "xsettle: persons[0].filings[0].valid_from: "
        "must be a valid date or datetime, day value is outside expected range"
    )


# 2. Not UTF-8 ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["latin1.yaml", "latin1.json"])
def test_a_file_that_is_not_utf8_is_one_line_naming_the_file(tmp_path: Path, name: str) -> None:
    content = scenario(settle()).encode() + b"# caf\xe9\n"
    line = refused(tmp_path, name, content)
    offset = len(scenario(settle()).encode()) + len(b"# caf")
    assert line == (
        f"xsettle: {tmp_path / name}: not UTF-8: byte 0xe9 at offset {offset} "
        "(invalid continuation byte); save the file as UTF-8"
    )


# 3. Deep nesting -------------------------------------------------------------------------


def test_500_levels_of_yaml_are_refused_in_one_line(tmp_path: Path) -> None:
    flow = scenario("  - {kind: " + "[" * 500 + "]" * 500 + ", claim_id: C1}\n")
    line = refused(tmp_path, "flow.yaml", flow)
    # the 101st collection: events' mapping, its list, the event, then 98 brackets
    where = f"line {flow.count(chr(10))}, column {len('  - {kind: ') + 97 + 1}"
    assert line == (
        f"xsettle: {tmp_path / 'flow.yaml'}: refused: "
        f"lists and mappings nested more than 100 deep at {where}"
    )
    block = "".join("  " * level + "k:\n" for level in range(500)) + "  " * 500 + "v\n"
    line = refused(tmp_path, "block.yaml", block)
    assert line == (
        f"xsettle: {tmp_path / 'block.yaml'}: refused: "
        "lists and mappings nested more than 100 deep at line 101, column 201"
    )


def test_yaml_deep_enough_to_crash_libyamls_composer_is_refused(tmp_path: Path) -> None:
    line = refused(tmp_path, "abyss.yaml", "a: " + "[" * 200_000 + "]" * 200_000 + "\n")
    assert line.endswith(
        "refused: lists and mappings nested more than 100 deep at line 1, column 103"
    )


@pytest.mark.parametrize("depth", [500, 1_000, 100_000])
def test_deep_json_is_refused_in_one_line(tmp_path: Path, depth: int) -> None:
    text = json.dumps({"policies": [], "catalogs": [], "persons": [], "events": [{"kind": 1}]})
    text = text.replace("1", "[" * depth + "]" * depth)
    line = refused(tmp_path, "deep.json", text)
    assert line == (
        f"xsettle: {tmp_path / 'deep.json'}: refused: lists and mappings nested more than 100 deep"
    )


# 4. Alias bombs --------------------------------------------------------------------------

LAUGHS = "".join(
    f"      {name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)
BOMB = scenario(
    "  - kind:\n      a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + LAUGHS
    + "    claim_id: C1\n"
)


def test_a_billion_laughs_in_an_events_kind_is_refused_at_once(tmp_path: Path) -> None:
    line = refused(tmp_path, "bomb.yaml", BOMB, timeout=30)
    # a..f stand for 672,588 nodes; g's first *f (597,871 more) crosses the limit
    row = BOMB.splitlines().index(next(x for x in BOMB.splitlines() if x.startswith("      g:")))
    assert line == (
        f"xsettle: {tmp_path / 'bomb.yaml'}: refused: aliases (*name) stand for more than "
        f"1,000,000 nodes in all at line {row + 1}, column {len('      g: &g [') + 1}"
    )


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    text = scenario("  - {kind: &k [*k], claim_id: C1}\n")
    line = refused(tmp_path, "loop.yaml", text)
    assert line == (
        f"xsettle: {tmp_path / 'loop.yaml'}: refused: alias *k is inside its own anchor "
        f"(an endless document) at line {text.count(chr(10))}, column 16"
    )


def test_aliases_within_the_limit_still_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An anchored claim sent again by alias is a duplicate, as if written twice."""
    anchored = settle().replace("  - {kind", "  - &claim {kind", 1) + "  - *claim\n"
    code, with_alias, err = offline(tmp_path, capsys, scenario(anchored), "alias.yaml")
    assert (code, err) == (0, "")
    code, written_twice, err = offline(tmp_path, capsys, scenario(settle() * 2), "twice.yaml")
    assert with_alias == written_twice
    assert [result["status"] for result in with_alias] == ["SETTLED", "SETTLED"]


# 5. .nan and .inf ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "quantity", "field"),
    [
        (".nan", "1", "unit_price"),
        (".inf", "1", "unit_price"),
        ("-.Inf", "1", "unit_price"),
        ("'10'", ".NaN", "quantity"),
        ("'10'", "+.inf", "quantity"),
    ],
)
def test_a_non_finite_number_in_an_event_is_that_events_invalid_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], price: str, quantity: str, field: str
) -> None:
    text = scenario(settle(price=price, quantity=quantity) + settle())
    code, (bad, good), err = offline(tmp_path, capsys, text, "nan.yaml")
    assert (code, err) == (0, "")
    assert bad == {
        "claim_id": "C1",
        "status": "REJECTED",
        "reason": "INVALID_CLAIM",
        "message": f"lines[0].{field}: must be a finite number",
    }
    assert good["status"] == "SETTLED"


def test_json_nan_in_an_event_is_that_events_invalid_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = parse_document(scenario(settle()), "s.yaml")
    document["events"][0]["lines"][0]["unit_price"] = float("nan")
    text = json.dumps(document, default=str)
    assert '"unit_price": NaN' in text
    code, (bad,), err = offline(tmp_path, capsys, text, "nan.json")
    assert (code, err, bad["reason"]) == (0, "", "INVALID_CLAIM")
    assert bad["message"] == "lines[0].unit_price: must be a finite number"


def test_a_non_finite_number_in_a_policy_or_catalog_is_one_scenario_line(
    tmp_path: Path,
) -> None:
    line = refused(tmp_path, "catalog.yaml", scenario(settle(), limit=".inf"))
    assert line == "xsettle: catalogs[0].items[0].price_limit: must be a finite number"
    policy = scenario(settle()).replace("3: 0.5}}", "3: .nan}}")
    line = refused(tmp_path, "policy.yaml", policy)
    assert (
        line
        == "xsettle: policies[0].schemes.employee.inpatient.ratio.m[3]: must be a finite number"
    )


# Other hostile input: one line each ------------------------------------------------------


def test_other_unreadable_yaml_is_one_line(tmp_path: Path) -> None:
    huge = scenario(settle(quantity="1" * 5000))
    assert "Exceeds the limit (4300 digits)" in refused(tmp_path, "huge.yaml", huge)
    line = refused(tmp_path, "two.yaml", scenario(settle()) + "---\nevents: []\n")
    assert "not valid YAML: but found another document" in line
    line = refused(tmp_path, "key.yaml", scenario(settle()) + "? [a]\n: b\n")
    assert "not valid YAML: found unhashable key" in line


# 6. The loader: libyaml's parser, exact decimals, the same data either way ---------------


def test_the_plain_path_builds_what_the_full_loader_builds() -> None:
    """Documents without tags, anchors or merge keys are built straight from libyaml's
    events; everything the scalars can be must come out as the full loader makes it."""
    scalars = (
        "[1, 1.5, 0.1, 1e3, 1:30, -1:30.5, 0x1f, 0o17, 1_000, 1_000.5, yes, No, ~, null,"
        " 2025-02-28, 2025-02-30, 2025-02-28T10:00:00Z, '2025-02-30', .nan, -.inf, text]"
    )
    for text in (scalars, (CONTRACT / "example-scenario.yaml").read_text(encoding="utf-8")):
        plain = _plain_data(text)
        full = yaml.load(text, Loader=_ExactLoader)
        assert repr(plain) == repr(full)
    values = _plain_data(scalars)
    assert values[:5] == [
        1,
        Decimal("1.5"),
        Decimal("0.1"),
        "1e3",
        90,
    ]  # YAML 1.1: no dot, no float
    assert values[5] == Decimal("-90.5")
    assert values[15:18] == ["2025-02-30", values[16], "2025-02-30"]
    assert str(values[18]) == "NaN" and str(values[19]) == "-Infinity"


def test_anchors_and_merge_keys_load_as_if_written_out() -> None:
    written_out = "a: {x: 1, y: 2.50}\nb: {x: 1, y: 2.50, z: 3}\nc: [1, 2.50]\n"
    aliased = "a: &a {x: 1, y: 2.50}\nb: {<<: *a, z: 3}\nc: [1, !!float 2.50]\n"
    assert parse_document(aliased, "s.yaml") == parse_document(written_out, "s.yaml")
    assert parse_document(written_out, "s.yaml")["a"]["y"] == Decimal("2.50")


# Results stream out as they are computed -------------------------------------------------


class _Terminal(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed_lines = 0

    def flush(self) -> None:
        super().flush()
        self.flushed_lines = self.getvalue().count("\n")


def test_each_result_is_written_out_before_the_next_event_is_processed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stream.yaml"
    path.write_text(scenario(settle() + REVERSE + settle()), encoding="utf-8")
    terminal = _Terminal()
    seen: list[int] = []
    process = OfflineExchange.process

    def watched(self: OfflineExchange, raw: object) -> object:
        seen.append(terminal.flushed_lines)
        return process(self, raw)

    monkeypatch.setattr(OfflineExchange, "process", watched)
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["settle", "--scenario", str(path)]) == 0
    assert seen == [0, 1, 2]
    assert terminal.flushed_lines == 3
