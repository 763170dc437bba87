"""The one loop every agent runs: a batch of messages in; state, then messages, out.

What may fail how is decided here and nowhere else:

- **Bad input** (bytes that do not decode, a null value) goes to the dead-letter topic
  with its reason; the worker goes on.
- **A defect of ours** on one message also goes to the dead letters, whole, with the
  error (``xsettle dead-letters replay`` puts it back after a fix); the worker goes on.
- **An infrastructure fault** (:class:`~xsettle.errors.InfrastructureError`: schema
  registry, broker, store) is never the sender's fault: the batch is dropped from
  memory and retried with backoff while ``/ready`` says why, nothing is sent and no
  offset moves; if it persists the worker exits (code 3) so that its restart resumes
  from the last commit.

The order of effects is what makes redelivery exact. Handlers read rows and stage
new ones (:class:`Rows`, nothing in the table changes), and stage their messages in
an :class:`Outbox`. At the batch's end the rows are written (their changelog
records sent); a service whose answers must follow its state then waits until the
broker has acknowledged those records; only then are the messages sent, and the
batch ends only once the broker has acknowledged them too. A crash before the
changelog is acknowledged loses both; after it, the redelivered message finds its
answer in the row.

The batch's end is when faust acks its events, and an acked offset is committed
within a second, so nothing a batch produces may still be on its way then. faust's
own ``producer.flush()`` does not promise that: its buffer gives up waiting after
0.1 s without a send (a busy or stalled broker), and a commit after it went ahead
with answers still in memory; a crash then lost them for good. So the loop keeps
the future of every record it produced and waits for each (:func:`delivered`).

faust acks a batch's events when the loop body ends, even when it raises, so this
loop never raises: a fault it cannot ride out ends the process instead.
"""

import asyncio
import contextlib
import itertools
import logging
import os
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import faust
from faust import streams

from ...errors import InfrastructureError
from ..contract.codec import AvroCodec, DecodeError
from ..contract.deadletter import Origin, dead_letter, now

log = logging.getLogger(__name__)
_LOOPS = itertools.count()

RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)
"""Backoff between attempts at a batch that met an infrastructure fault: ~32 s in all."""
EXIT_STALLED = 3
"""The worker's exit code when a dependency stayed down through every retry."""
DELIVERY_TIMEOUT = 60.0
"""Seconds a batch waits for the broker to acknowledge what it produced (past the
producer's own request timeout and a broker stall) before the worker stops."""
STALL_AFTER = 5.0
"""Seconds of waiting for acknowledgements after which ``/ready`` says so."""

Row = TypeVar("Row")


@dataclass
class Status:
    """What a worker knows about its own progress, beyond faust's; ``/ready`` shows it."""

    stalls: dict[str, str] = field(default_factory=dict)
    """Agent → why its current batch cannot proceed (a dependency is down)."""
    broker_reachable: bool = True
    redelivered: int = 0
    """Messages this process found already applied: redeliveries after a crash or rebalance."""

    def count_redelivery(self) -> None:
        self.redelivered += 1

    @property
    def stalled(self) -> str | None:
        """Why some agent cannot proceed, if one cannot (one agent's good batch does not
        hide another's stall)."""
        return "; ".join(sorted(set(self.stalls.values()))) or None


@contextlib.contextmanager
def _as_current(event: faust.EventT) -> Iterator[None]:
    """Make ``event`` faust's current event for the table write inside the block.

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
    """

    version_of: Callable[[Any], int] = staticmethod(lambda row: 0)
    unconfirmed: set[asyncio.Future[Any]]
    """Changelog records sent and not yet acknowledged by the broker."""

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        sent = super().send_changelog(*args, **kwargs)
        self.unconfirmed.add(sent)
        sent.add_done_callback(self._confirmed)
        return sent

    def _confirmed(self, sent: asyncio.Future[Any]) -> None:
        if sent.cancelled() or sent.exception() is None:
            self.unconfirmed.discard(sent)
        # a failed record stays: the batch that waits for it sees the failure

    def apply_changelog_batch(self, batch: Iterable[faust.EventT]) -> None:
        super().apply_changelog_batch([event for event in batch if self._is_newer(event)])

    def _is_newer(self, event: faust.EventT) -> bool:
        if event.message.value is None:  # a deletion
            return True
        row = event.value
        current = self.data.get(self._to_key(event.key))
        return current is None or self.version_of(row) > self.version_of(current)


def versioned_table(
    app: faust.App, name: str, version_of: Callable[[Any], int], **options: Any
) -> VersionedTable:
    table = VersionedTable(app, name=name, **options)
    table.version_of = version_of  # type: ignore[method-assign]
    table.unconfirmed = set()
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
        with _as_current(event):
            return self.table.get(key)

    def put(self, key: bytes, row: Row, event: faust.EventT) -> None:
        self._staged[key] = (row, event)

    def write(self) -> int:
        """Write the staged rows (one changelog record each); how many."""
        for key, (row, event) in self._staged.items():
            with _as_current(event):
                self.table[key] = row
        written = len(self._staged)
        self._staged.clear()
        return written

    def discard(self) -> None:
        self._staged.clear()


@dataclass
class Outbox:
    """The messages a batch will send, once its state is written."""

    sends: list[tuple[Any, bytes | None, bytes]] = field(default_factory=list)

    def send(self, topic: Any, key: bytes | None, value: bytes) -> None:
        self.sends.append((topic, key, value))


Handler = Callable[[faust.EventT, Origin, Outbox], None]
"""Handles one message: stages rows and messages; raises DecodeError for bad bytes."""


class AgentLoop:
    def __init__(
        self,
        app: faust.App,
        service: str,
        status: Status,
        dead_letters: tuple[Any, AvroCodec],
        rows: Sequence[Rows[Any]] = (),
        *,
        durable_before_send: bool = False,
    ) -> None:
        self.app = app
        self.service = service
        self.name = f"{service}-{next(_LOOPS)}"
        self.status = status
        self.dead_topic, self.dead_codec = dead_letters
        self.rows = rows
        self.durable_before_send = durable_before_send

    async def consume(self, stream: faust.StreamT, handle: Handler, batch: int) -> None:
        """An agent's whole body: ``stream`` taken ``batch`` events at a time, each batch
        :meth:`run` (a batch waits at most 10 ms to fill)."""
        async for events in stream.take_events(batch, within=0.01):
            await self.run(events, handle)

    async def run(self, events: Sequence[faust.EventT], handle: Handler) -> None:
        outbox = await self._handle_all(events, handle)
        for rows in self.rows:
            rows.write()
        changelog = [
            sent
            for rows in self.rows
            if isinstance(rows.table, VersionedTable)
            for sent in rows.table.unconfirmed
        ]
        if self.durable_before_send:
            await self._delivered(changelog, "its state to the changelog")
        sent = [topic.send_soon(key=key, value=value) for topic, key, value in outbox.sends]
        await self._delivered([*changelog, *sent], "its answers")

    async def _delivered(self, sent: Sequence[asyncio.Future[Any]], what: str) -> None:
        """Return once the broker has acknowledged every record in ``sent``; stop the
        worker if one failed or they are not all acknowledged within
        :data:`DELIVERY_TIMEOUT` (its restart redelivers the batch)."""
        if not sent:
            return
        _, pending = await asyncio.wait(sent, timeout=STALL_AFTER)
        if pending:
            self.status.stalls[self.name] = f"waiting for the broker to acknowledge {what}"
            _, pending = await asyncio.wait(pending, timeout=DELIVERY_TIMEOUT - STALL_AFTER)
            self.status.stalls.pop(self.name, None)
        if pending:
            self._stop(
                f"the broker acknowledged not all of {what} in {DELIVERY_TIMEOUT:.0f} s "
                f"({len(pending)} of {len(sent)} records pending)"
            )
        failed = next((f.exception() for f in sent if not f.cancelled() and f.exception()), None)
        if failed is not None or any(f.cancelled() for f in sent):
            self._stop(f"could not send {what}: {failed!r}")

    async def _handle_all(self, events: Sequence[faust.EventT], handle: Handler) -> Outbox:
        waited = 0.0
        for attempt, delay in enumerate((*RETRY_DELAYS, None), start=1):
            outbox = Outbox()
            try:
                for event in events:
                    self._handle_one(event, handle, outbox)
            except InfrastructureError as error:
                for rows in self.rows:
                    rows.discard()
                if delay is None:
                    self._stop(f"{error} (still failing after {attempt} attempts, {waited:.0f} s)")
                self.status.stalls[self.name] = str(error)
                log.warning("%s: %s; retrying the batch in %.2f s", self.service, error, delay)
                await asyncio.sleep(delay)  # type: ignore[arg-type]
                waited += delay  # type: ignore[operator]
                continue
            self.status.stalls.pop(self.name, None)
            return outbox
        raise AssertionError("unreachable: the last attempt stops the worker")

    def _handle_one(self, event: faust.EventT, handle: Handler, outbox: Outbox) -> None:
        message = event.message
        origin = Origin(message.topic, message.partition, message.offset, message.key)
        payload: bytes | None = message.value
        if payload is None:
            self._dead(outbox, origin, None, "null value (a tombstone): not a message")
            return
        try:
            handle(event, origin, outbox)
        except InfrastructureError:
            raise
        except DecodeError as error:
            self._dead(outbox, origin, payload, str(error))
        except Exception as error:
            # A defect of ours: keep the message whole to replay after the fix. The log
            # names where it was, not what it said (person ids and amounts stay out).
            where = f"{origin.topic}[{origin.partition}]@{origin.offset}"
            log.exception("%s could not process %s", self.service, where)
            reason = f"{self.service} could not process it: {type(error).__name__}: {error}"
            self._dead(outbox, origin, payload, reason)

    def _dead(self, outbox: Outbox, origin: Origin, payload: bytes | None, reason: str) -> None:
        letter = dead_letter(origin, payload, reason, self.service, now())
        outbox.send(self.dead_topic, origin.topic.encode(), self.dead_codec.encode(letter))

    def _stop(self, why: str) -> None:
        line = (
            f"xsettle {self.service}: {why}; "
            "stopping so that a restart resumes from the last commit"
        )
        log.critical(line)
        print(line, file=sys.stderr, flush=True)
        os._exit(EXIT_STALLED)
