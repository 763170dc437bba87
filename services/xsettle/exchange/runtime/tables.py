"""The services' tables: versioned rows, written once per batch, logged as deltas.

Every row carries a version that each write raises. Recovery never takes a row back
to an older version, and a row that grows with its person's history is logged as what
changed (:mod:`.row_delta`), so restart time and broker memory follow the work done,
not persons × claims. Handlers see a table through :class:`Rows`: read, stage, and
write once at the batch's end.
"""

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import faust
from faust import streams

from .row_delta import Path, Replay, RowDelta, diff

Row = TypeVar("Row")


class StateRow(Protocol):
    """A row that can be logged as deltas: its JSON state, whose ``version`` is its own."""

    def to_state(self) -> dict[str, Any]: ...


@contextlib.contextmanager
def as_current(event: faust.EventT) -> Iterator[None]:
    """Make ``event`` faust's current event for the table access inside the block.

    Rows are written at a batch's end, outside faust's per-event iteration, where no
    event is current; the RocksDB store files a row under the current event's
    partition (and refuses to write without one), and a table without
    ``use_partitioner`` sends its changelog record to that partition. The event named
    is the row's latest, whose partition is its person's. faust has a getter
    (``current_event``) but no public setter, hence its private variable, used here only.
    """
    token = streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        streams._current_event.reset(token)


class VersionedTable(faust.Table):  # type: ignore[misc]
    """A table whose recovery never takes a row back to an older version.

    faust re-reads an in-memory table's changelog on every rebalance and overwrites
    memory with what it finds. A batch whose rows are still on their way to the
    changelog when the rebalance starts (a broker stall does exactly that) would be
    rolled back in memory while its answers go out, and the next request would be
    computed on the older row. So every row carries a version that each write raises
    (``version_of``), and recovery applies a changelog record only if it is newer
    than the row in memory. After a crash memory is empty and everything applies.

    With ``delta_maps`` set (the paths of the row state's growing maps), a row is
    logged whole the first time this process writes it and as a :class:`RowDelta`
    against the row it replaces after that, when this process logged that row.
    """

    version_of: Callable[[Any], int] = staticmethod(lambda row: 0)
    delta_maps: Sequence[Path] = ()
    from_state: Callable[[dict[str, Any]], Any] | None = None
    unconfirmed: set[asyncio.Future[Any]]
    """Changelog records sent and not yet acknowledged by the broker."""
    logged: dict[Any, tuple[int, dict[str, Any]]]
    """Key → the version and state this process last logged for it (deltas' base). Kept,
    not rebuilt from the row being replaced, to spare a second serialisation per write
    (CPU is what this machine lacks); it costs one JSON copy of each row written."""

    def send_changelog(
        self, partition: int | None, key: Any, value: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if value is not None and self.delta_maps:
            value = self._as_logged(key, value)
        sent = super().send_changelog(partition, key, value, *args, **kwargs)
        self.unconfirmed.add(sent)
        sent.add_done_callback(self._confirmed)
        return sent

    def _as_logged(self, key: Any, row: StateRow) -> StateRow | RowDelta:
        """What goes to the changelog for ``row``: a delta against the row it replaces
        if this process logged that very row (the table still holds the old row when
        faust logs the new one), else the row whole (first write, or a row another
        worker wrote since: after a rebalance)."""
        state = row.to_state()
        version = self.version_of(row)
        before = self.logged.get(key)
        self.logged[key] = (version, state)
        replaced = self.data.get(key)
        if before is None or replaced is None or self.version_of(replaced) != before[0]:
            return row
        sets, deletes = diff(before[1], state, self.delta_maps)
        return RowDelta(before[0], version, sets, deletes)

    def _confirmed(self, sent: asyncio.Future[Any]) -> None:
        if sent.cancelled() or sent.exception() is None:
            self.unconfirmed.discard(sent)
        # a failed record stays: the batch that waits for it sees the failure

    def apply_changelog_batch(self, batch: Iterable[faust.EventT]) -> None:
        replay = Replay(self.version_of, self.from_state, self.data.get)
        latest: dict[Any, faust.EventT] = {}
        for event in batch:
            key = self._to_key(event.key)
            latest[key] = event
            message = event.message
            if message.value is None:  # a deletion
                replay.drop(key)
                with as_current(event):
                    self.data.pop(key, None)
                continue
            replay.add(key, event.value, f"{message.topic}[{message.partition}]@{message.offset}")
        for key, row in replay.rows():
            with as_current(latest[key]):
                self.data[key] = row


def versioned_table(
    app: faust.App,
    name: str,
    version_of: Callable[[Any], int],
    *,
    delta_maps: Sequence[Path] = (),
    from_state: Callable[[dict[str, Any]], Any] | None = None,
    **options: Any,
) -> VersionedTable:
    table = VersionedTable(app, name=name, **options)
    table.version_of = version_of  # type: ignore[method-assign]
    table.delta_maps = delta_maps
    table.from_state = from_state  # type: ignore[method-assign]
    table.unconfirmed = set()
    table.logged = {}
    return app.tables.add(table)  # type: ignore[no-any-return]


class Rows(Generic[Row]):
    """A table seen through one batch: rows are read, staged and written once at the end.

    Handlers never change a row they read; they stage a new one with :meth:`put`.
    So a message that fails half-way leaves nothing behind, and memory never runs
    ahead of the changelog.
    """

    def __init__(self, table: MutableMapping[bytes, Row]) -> None:
        self.table = table
        self._staged: dict[bytes, tuple[Row, faust.EventT]] = {}

    def get(self, key: bytes, event: faust.EventT) -> Row | None:
        """The row as staged in this batch, else as the table has it (read in the
        partition of ``event``, the message that asks)."""
        staged = self._staged.get(key)
        if staged is not None:
            return staged[0]
        with as_current(event):
            return self.table.get(key)

    def put(self, key: bytes, row: Row, event: faust.EventT) -> None:
        self._staged[key] = (row, event)

    def write(self) -> None:
        """Write the staged rows (one changelog record each)."""
        for key, (row, event) in self._staged.items():
            with as_current(event):
                self.table[key] = row
        self._staged.clear()

    def discard(self) -> None:
        self._staged.clear()
