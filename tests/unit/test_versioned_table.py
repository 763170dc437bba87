"""Recovery never takes a row back: a changelog record older than memory is skipped."""

from types import SimpleNamespace
from typing import Any

import faust

from xsettle.exchange.runtime.tables import versioned_table


def _record(key: bytes, value: Any) -> Any:
    message = SimpleNamespace(partition=0, value=b"the record as stored")
    return SimpleNamespace(key=key, value=value, message=message)


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
