"""Recovery never takes a row back, and a row logged as deltas recovers to the very row
written at a cost that follows the change: a delta carries changed entries only, and a
broken chain is not applied."""

import copy
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import faust
from hypothesis import given
from hypothesis import strategies as st

from xsettle.exchange.runtime.row_delta import RowDelta, apply, diff
from xsettle.exchange.runtime.tables import versioned_table

MAPS = (("answers",), ("ledger", "claims"))


@dataclass
class Row:
    state: dict[str, Any]

    def to_state(self) -> dict[str, Any]:
        return copy.deepcopy(self.state)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Row":
        return cls(state)


def _row(version: int, claims: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": version,
        "person": {"name": "张三"},
        "ledger": {"balance": "10.00", "claims": claims},
        "answers": answers,
    }


entries = st.dictionaries(st.text(min_size=1, max_size=4), st.integers(), max_size=6)


@given(entries, entries, entries, st.integers(), st.booleans())
def test_applying_the_difference_gives_the_new_state(
    old_claims: dict[str, int],
    changed: dict[str, int],
    answers: dict[str, int],
    balance: int,
    drop: bool,
) -> None:
    old = _row(1, old_claims, answers)
    new = copy.deepcopy(old)
    new["version"] = 2
    new["ledger"]["claims"].update(changed)  # changed entries keep their place, new ones go last
    new["ledger"]["balance"] = str(balance)
    if drop and answers:
        new["answers"].pop(next(iter(answers)))
    sets, deletes = diff(old, new, MAPS)
    patched = json.loads(json.dumps(old))
    delta = RowDelta.from_state(json.loads(json.dumps(RowDelta(1, 2, sets, deletes).to_state())))
    apply(patched, delta)
    assert patched == new
    assert list(patched["ledger"]["claims"]) == list(new["ledger"]["claims"])
    unchanged = {k for k, v in old_claims.items() if changed.get(k, v) == v}
    logged = {tuple(path) for path, _ in sets}
    assert not any(("ledger", "claims", key) in logged for key in unchanged)


def test_a_delta_carries_the_changed_entries_only() -> None:
    claims = {f"C{i}": {"paid": str(i)} for i in range(1000)}
    old = _row(7, claims, {})
    new = copy.deepcopy(old)
    new["version"] = 8
    new["ledger"]["claims"]["C1000"] = {"paid": "1000"}
    new["answers"]["C1000"] = [["r1", "settle"]]
    sets, deletes = diff(old, new, MAPS)
    assert sorted(path for path, _ in sets) == [
        ["answers", "C1000"],
        ["ledger", "claims", "C1000"],
        ["version"],
    ]
    assert deletes == []


class _Record:
    """A changelog event as recovery sees it (weakly referable, as faust's events are)."""

    def __init__(self, key: bytes, value: Any, offset: int) -> None:
        self.key, self.value = key, value
        self.message = SimpleNamespace(
            topic="rows-changelog", partition=0, offset=offset, value=b"x"
        )


def _record(key: bytes, value: Any, offset: int = 0) -> Any:
    return _Record(key, value, offset)


def _table() -> Any:
    app = faust.App("delta-test", broker="kafka://127.0.0.1:1", store="memory://")
    return versioned_table(
        app,
        "rows",
        lambda row: row.state["version"],
        delta_maps=MAPS,
        from_state=Row.from_state,
        key_type=bytes,
    )


def _delta(old: dict[str, Any], new: dict[str, Any]) -> RowDelta:
    sets, deletes = diff(old, new, MAPS)
    return RowDelta(old["version"], new["version"], sets, deletes)


def test_recovery_applies_a_chain_of_deltas_and_skips_what_memory_has() -> None:
    v1 = _row(1, {"C1": 1}, {"C1": ["a"]})
    v2 = _row(2, {"C1": 1, "C2": 2}, {"C1": ["a"], "C2": ["b"]})
    v3 = _row(3, {"C1": -1, "C2": 2}, {"C1": ["a", "c"], "C2": ["b"]})
    table = _table()
    table.apply_changelog_batch(
        [_record(b"p", Row(v1)), _record(b"p", _delta(v1, v2), 1), _record(b"p", _delta(v2, v3), 2)]
    )
    assert table.data[b"p"].state == v3
    # a rebalance re-reads the same changelog over a row already newer: nothing changes
    v4 = _row(4, {"C1": -1, "C2": 2, "C3": 3}, {})
    table.data[b"p"] = Row(v4)
    table.apply_changelog_batch([_record(b"p", Row(v1)), _record(b"p", _delta(v2, v3), 2)])
    assert table.data[b"p"].state == v4


def test_a_broken_chain_waits_for_the_next_whole_row() -> None:
    v1 = _row(1, {"C1": 1}, {})
    v2 = _row(2, {"C1": 2}, {})
    v3 = _row(3, {"C1": 3}, {})
    v5 = _row(5, {"C1": 5}, {})
    table = _table()
    table.apply_changelog_batch([_record(b"p", Row(v1)), _record(b"p", _delta(v2, v3), 2)])
    assert table.data[b"p"].state == v1, "a delta from version 2 cannot apply to version 1"
    table.apply_changelog_batch([_record(b"p", Row(v5), 3)])
    assert table.data[b"p"].state == v5


def test_a_row_is_logged_whole_unless_this_process_logged_the_row_it_replaces() -> None:
    table = _table()
    v1 = Row(_row(1, {"C1": 1}, {}))
    assert table._as_logged(b"p", v1) is v1, "first write: whole"
    table.data[b"p"] = v1
    v2 = Row(_row(2, {"C1": 1, "C2": 2}, {}))
    logged = table._as_logged(b"p", v2)
    assert isinstance(logged, RowDelta) and (logged.base, logged.version) == (1, 2)
    # another worker wrote version 7 meanwhile (a rebalance gave it back): whole again
    table.data[b"p"] = Row(_row(7, {}, {}))
    v8 = Row(_row(8, {"C9": 9}, {}))
    assert table._as_logged(b"p", v8) is v8


def test_recovery_applies_only_newer_versions() -> None:
    app = faust.App("versioned-test", broker="kafka://127.0.0.1:1", store="memory://")
    table = versioned_table(app, "rows", lambda row: row[1], key_type=bytes)
    table.data[b"in-flight"] = ("written, not yet in the changelog", 5)
    table.apply_changelog_batch(
        [
            _record(b"in-flight", ("older", 4)),
            _record(b"in-flight", ("same", 5)),
            _record(b"fresh", ("first", 1)),
        ]
    )
    assert table.data[b"in-flight"] == ("written, not yet in the changelog", 5)
    assert table.data[b"fresh"] == ("first", 1)
    table.apply_changelog_batch([_record(b"in-flight", ("newer", 6))])
    assert table.data[b"in-flight"] == ("newer", 6)
