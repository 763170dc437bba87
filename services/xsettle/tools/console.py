"""What the console tools share: a topic read without a consumer group, printed as JSON Lines.

:class:`TopicConsumer` takes every partition of one topic for itself (no group, no
commits, so the services' consumers never see it) and reads from the beginning or
from the current end; without ``follow`` it stops at the ends the topic had when it
started. :func:`print_topic` turns its records into JSON Lines on stdout, with progress
while catching up and a one-line summary on stderr.
"""

import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, TextIO

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from ..errors import InfrastructureError, XsettleError
from ..exchange.processes.security import client_options
from ..settings import Settings

POLL_MS = 500
FETCH_WAIT_MS = 100
"""Short fetch waits: the embedded broker answers an empty fetch only when the wait ends."""
DRAIN_MS = 200


def iso_time(moment: datetime | None) -> str | None:
    """A timestamp as ISO 8601 UTC with milliseconds, e.g. ``2025-03-10T08:00:00.000Z``."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plural(count: int, word: str) -> str:
    """``plural(1, "event")`` → ``1 event``; ``plural(2, "event")`` → ``2 events``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def position(record: Any) -> str:
    """A record's name on its topic: ``partition:offset``."""
    return f"{record.partition}:{record.offset}"


class Meter:
    """Progress of long work on stderr: a live line on a terminal, else a line every
    ``every`` seconds; nothing for work done before the first would show. ``total``
    may be None (stdin) or an estimate (a broker's end offsets): counts past it
    raise it."""

    def __init__(self, label: str, total: int | None, stream: TextIO, every: float = 5.0) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self.every = 0.2 if self.tty else every
        self.done = 0
        self.started = self._shown = time.monotonic()
        self.lines = 0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._shown >= self.every:
            self._shown = now
            self._show()

    def finish(self) -> None:
        """End the live line (a terminal), or show the last count if any was shown."""
        if self.lines:
            self._show()
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()

    def _show(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        if self.total is not None:
            total = max(self.total, self.done)
            share = self.done / total if total else 1.0
            count = f"{self.done:,}/{total:,} ({share:4.0%})"
        else:
            count = f"{self.done:,}"
        line = f"{self.label}: {count}, {self.done / elapsed:,.0f}/s, {elapsed:.0f} s"
        self.lines += 1
        self.stream.write(f"\r{line}\x1b[K" if self.tty else line + "\n")
        self.stream.flush()


class TopicConsumer:
    """Every partition of ``topics``, read by this process alone (no group, no commits)."""

    def __init__(self, settings: Settings, topics: str | tuple[str, ...], who: str) -> None:
        self.topics = (topics,) if isinstance(topics, str) else topics
        self.topic = " and ".join(self.topics)
        """The topics' names, for messages."""
        bootstrap = settings.require_bootstrap(who)
        try:
            self.consumer = KafkaConsumer(
                bootstrap_servers=bootstrap,
                enable_auto_commit=False,
                allow_auto_create_topics=False,
                fetch_max_wait_ms=FETCH_WAIT_MS,
                **client_options(settings),
            )
        except KafkaError as error:
            raise InfrastructureError(f"cannot reach the broker at {bootstrap}: {error}") from None
        self.partitions: list[TopicPartition] = []
        for topic in self.topics:
            try:
                found = self.consumer.partitions_for_topic(topic)
            except KafkaError as error:
                self.close()
                raise InfrastructureError(f"{topic}: cannot read its metadata: {error}") from None
            if not found:
                self.close()
                raise XsettleError(
                    f"topic {topic} does not exist on {bootstrap}; check XSETTLE_NAMESPACE, "
                    "or create the topics with `xsettle topics`"
                )
            self.partitions += [TopicPartition(topic, p) for p in sorted(found)]

    def records(
        self,
        *,
        from_beginning: bool,
        follow: bool,
        on_caught_up: Callable[[], None] | None = None,
    ) -> Iterator[ConsumerRecord]:
        """Records oldest first per partition, from the beginning or from now on.

        Without ``follow`` it ends at the ends the partitions had when it started;
        with it, it keeps waiting for more (until interrupted). ``on_caught_up`` is
        called once those ends are reached.
        """
        consumer = self.consumer
        consumer.assign(self.partitions)
        if from_beginning:
            consumer.seek_to_beginning(*self.partitions)
        else:
            consumer.seek_to_end(*self.partitions)
        self.ends = self._call(consumer.end_offsets, self.partitions)
        self.starts = {tp: self._call(consumer.position, tp) for tp in self.partitions}
        caught_up = False
        while True:
            if not caught_up and all(
                self._call(consumer.position, tp) >= end for tp, end in self.ends.items()
            ):
                if not follow:
                    yield from self._drain()
                caught_up = True
                if on_caught_up is not None:
                    on_caught_up()
                if not follow:
                    return
            yield from self._poll(POLL_MS)

    def _poll(self, timeout_ms: int) -> list[ConsumerRecord]:
        batches = self._call(self.consumer.poll, timeout_ms=timeout_ms)
        return [record for tp in sorted(batches) for record in batches[tp]]

    def _drain(self) -> Iterator[ConsumerRecord]:
        """What is fetched already. The embedded broker reports a partition's end as
        its last batch's first offset + 1, so reaching the end offsets can leave the
        rest of that batch unread (a poll returns part of a batch); read on until a
        poll finds nothing."""
        while records := self._poll(DRAIN_MS):
            yield from records

    @property
    def backlog(self) -> int:
        """Records between where reading started and the ends when it started."""
        return sum(max(0, end - self.starts[tp]) for tp, end in self.ends.items())

    def record_at(self, partition: int, offset: int, timeout: float = 30.0) -> ConsumerRecord:
        """The record at ``partition:offset``; a one-line error when there is none."""
        (topic,) = self.topics
        tp = TopicPartition(topic, partition)
        if tp not in self.partitions:
            raise XsettleError(
                f"{topic} has no partition {partition} "
                f"(it has {len(self.partitions)}: 0 to {len(self.partitions) - 1})"
            )
        consumer = self.consumer
        first = self._call(consumer.beginning_offsets, [tp])[tp]
        if offset < first:
            raise XsettleError(
                f"no record at {partition}:{offset} on {self.topic}: partition {partition} "
                f"starts at offset {first} (older records are past their retention)"
            )
        end = self._call(consumer.end_offsets, [tp])[tp]
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        empty = 0
        while time.monotonic() < deadline:
            records = self._poll(POLL_MS)
            for record in records:
                if record.offset == offset:
                    return record
                if record.offset > offset:  # compacted away
                    break
            else:
                # Nothing at or past it: past the end (which the embedded broker reports
                # low, so the offset is tried for a moment even when above that end).
                empty = empty + 1 if not records else 0
                if offset < end or empty < 3:
                    continue
            raise XsettleError(f"no record at {partition}:{offset} on {self.topic}")
        raise InfrastructureError(
            f"{self.topic}: {partition}:{offset} not read within {timeout:.0f} s"
        )

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except KafkaError as error:
            raise InfrastructureError(f"{self.topic}: {error}") from None

    def close(self) -> None:
        self.consumer.close()

    def __enter__(self) -> "TopicConsumer":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class Tally:
    """What a listing did, for its summary line."""

    read: int = 0
    printed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def summary(self, label: str, topic: str, seconds: float) -> str:
        skipped = ", ".join(
            plural(count, why) if why == "duplicate" else f"{count:,} {why}"
            for why, count in sorted(self.skipped.items())
        )
        skipped = f"; skipped {skipped}" if skipped else ""
        return (
            f"{label}: {self.printed} printed of {self.read} read from {topic}{skipped} "
            f"({seconds:.1f} s)"
        )


def print_topic(
    stream: TopicConsumer,
    render: Callable[[ConsumerRecord, Tally], dict[str, Any] | None],
    *,
    label: str,
    from_beginning: bool,
    follow: bool,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> Tally:
    """Print ``render(record)`` as one JSON line per record (None: not printed).

    Progress on stderr while catching up (unless stdout and stderr share a terminal,
    where it would break up the lines), a line when it starts following, the summary
    at the end, Ctrl-C included: following ends with Ctrl-C.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    tally = Tally()
    started = time.monotonic()
    progress: Meter | None = None
    show_progress = from_beginning and not (out.isatty() and err.isatty())

    def caught_up() -> None:
        nonlocal progress
        if progress is not None:
            progress.finish()
            progress = None
        if follow:
            where = "caught up" if from_beginning else "reading new records"
            print(f"xsettle: {where} on {stream.topic}; following, Ctrl-C stops", file=err)
            err.flush()

    records = stream.records(from_beginning=from_beginning, follow=follow, on_caught_up=caught_up)
    try:
        for record in records:
            if progress is None and show_progress and tally.read == 0:
                progress = Meter(label, stream.backlog, err)
            tally.read += 1
            if progress is not None:
                progress.advance()
            line = render(record, tally)
            if line is not None:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                tally.printed += 1
                if follow:
                    out.flush()
    except KeyboardInterrupt:
        if not follow:
            raise
    finally:
        out.flush()
        if progress is not None:
            progress.finish()
        print(tally.summary(label, stream.topic, time.monotonic() - started), file=err)
    return tally
