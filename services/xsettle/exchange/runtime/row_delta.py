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

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

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


class Replay:
    """Rows recovered from changelog records in order, whole rows and deltas alike.

    A row under a run of deltas is kept as its JSON state, so the run costs what the
    deltas carry; each is rebuilt once, at the end (:meth:`rows`). A record older than
    the row is skipped (recovery never takes a row back), and so is a delta whose
    base is not the row's version (a broken chain waits for the next whole row).
    """

    def __init__(
        self,
        version_of: Callable[[Any], int],
        from_state: Callable[[dict[str, Any]], Any] | None,
        current: Callable[[Any], Any] = lambda key: None,
    ) -> None:
        self.version_of = version_of
        self.from_state = from_state
        self.current = current
        self._rows: dict[Any, tuple[Any, dict[str, Any] | None]] = {}

    def add(self, key: Any, logged: Any, where: str = "") -> None:
        row, state = self._rows[key] if key in self._rows else (self.current(key), None)
        if state is not None:
            version: int | None = state["version"]
        else:
            version = None if row is None else self.version_of(row)
        if not isinstance(logged, RowDelta):
            if version is None or self.version_of(logged) > version:
                self._rows[key] = (logged, None)
            return
        if version is not None and logged.version <= version:
            return  # already applied
        if version != logged.base:
            log.warning(
                "%s: a delta for version %s found the row at %s: not applied until the "
                "row is logged whole",
                where,
                logged.base,
                version,
            )
            return
        if state is None:
            state = row.to_state()
        apply(state, logged)
        self._rows[key] = (row, state)

    def drop(self, key: Any) -> None:
        self._rows.pop(key, None)

    def rows(self) -> Iterator[tuple[Any, Any]]:
        """Every row a record changed, as it now is."""
        for key, (row, state) in self._rows.items():
            if state is not None:
                assert self.from_state is not None, "deltas are logged for rows with a state"
                row = self.from_state(state)
            yield key, row
