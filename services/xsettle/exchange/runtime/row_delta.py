"""Changelog records that carry what changed in a row, not the whole row.

A person's row at the insured location holds every claim and every answer given, so
writing it whole on each change made the changelog grow with persons × claims² and a
restart read all of it back. Instead, a row's first write in a process is whole and
each later one is a :class:`RowDelta` against the row this process wrote before it:
the entries of the row's growing maps (claims, answers, ...) that changed, and the
other fields that changed, each as its new value. Recovery applies them in order.

A delta names the version it applies to (``base``). If the row being recovered is at
another version the chain is broken (a record lost with a worker that then stopped
before answering): the delta and those after it are not applied until the next whole
row, which is what the next write after a restart is.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RowDelta:
    base: int
    """The row version this applies to."""
    version: int
    """The row version it makes."""
    sets: list[tuple[list[str], Any]]
    """(path, new value) pairs."""
    deletes: list[list[str]]
    """Paths that no longer exist."""

    def to_state(self) -> dict[str, Any]:
        return {"delta": [self.base, self.version, self.sets, self.deletes]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "RowDelta":
        base, version, sets, deletes = state["delta"]
        return cls(base, version, [(path, value) for path, value in sets], deletes)


def is_delta(state: dict[str, Any]) -> bool:
    return "delta" in state


def diff(
    old: dict[str, Any], new: dict[str, Any], maps: Sequence[Path]
) -> tuple[list[tuple[list[str], Any]], list[list[str]]]:
    """What turns ``old`` into ``new`` (two JSON states): inside each path of ``maps``
    entry by entry, elsewhere field by field."""
    sets: list[tuple[list[str], Any]] = []
    deletes: list[list[str]] = []

    def walk(path: Path, before: dict[str, Any], after: dict[str, Any]) -> None:
        is_map = path in maps
        for key, value in after.items():
            inner = (*path, key)
            previous = before.get(key, _ABSENT)
            if (
                not is_map
                and any(m[: len(inner)] == inner for m in maps)
                and isinstance(value, dict)
                and isinstance(previous, dict)
            ):
                walk(inner, previous, value)
            elif previous is _ABSENT or previous != value:
                sets.append((list(inner), value))
        deletes.extend([*path, key] for key in before if key not in after)

    walk((), old, new)
    return sets, deletes


def apply(state: dict[str, Any], delta: RowDelta) -> None:
    """Apply ``delta`` to ``state`` in place (a map's new entry goes last, as it did)."""
    for path in delta.deletes:
        node = state
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    for path, value in delta.sets:
        node = state
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value


_ABSENT = object()
