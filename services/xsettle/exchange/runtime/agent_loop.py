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
import itertools
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import faust

from ...errors import InfrastructureError
from ..contract.codec import AvroCodec, DecodeError
from ..contract.deadletter import Origin, dead_letter, now
from .tables import Rows, VersionedTable

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
BATCH_WINDOW = 0.05
"""Seconds a batch gathers events before it runs (unless it fills first). Each batch
costs about the same whatever its size (its changelog and its answers are each one
produce request, and faust wakes every agent once per window even when idle), so at a
steady pace a wider window is less CPU per event. Measured at 150 events/s offered,
10 ms → 50 ms: the treatment and insured workers 2.6 → 2.1 and 2.1 → 1.6 ms of CPU per
event, an idle worker's 90 → 50 ms/s; each agent's hop waits 25 ms more on average."""


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

    async def consume(
        self,
        stream: faust.StreamT,
        handle: Handler,
        batch: int,
        window: float = BATCH_WINDOW,
    ) -> None:
        """An agent's whole body: ``stream`` taken ``batch`` events at a time, each batch
        :meth:`run` (a batch waits at most ``window`` seconds to fill)."""
        async for events in stream.take_events(batch, within=window):
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
