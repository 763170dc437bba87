"""What the console tools share: topics read without a consumer group, printed as JSON Lines.

A :class:`~xsettle.exchange.processes.topic_reader.TopicReader` takes every partition
for itself (no group, no commits, so the services' consumers never see it) and reads
from the beginning or from the current end; without ``follow`` it stops at the ends
the topics had when it started. :func:`print_topic` turns its records into JSON Lines
on stdout, with progress while catching up and a one-line summary on stderr.
"""

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from kafka.consumer.fetcher import ConsumerRecord

from ..exchange.contract.codec import AvroCodec, DecodeError
from ..exchange.processes.topic_reader import TopicReader
from ..pipeline.progress import Progress
from ..settings import Settings


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


def open_topics(settings: Settings, topics: str | tuple[str, ...], who: str) -> TopicReader:
    """A reader of ``topics`` on the configured broker (a one-line error naming ``who``
    when none is configured)."""
    return TopicReader(settings.require_bootstrap(who), topics, settings)


def decoded(
    codec: AvroCodec, record: ConsumerRecord, tally: "Tally", err: TextIO | None, name: str
) -> dict[str, Any] | None:
    """A record's value decoded, or None: counted as undecodable, and said on ``err``
    (``name`` names the record)."""
    try:
        return codec.decode(record.value or b"")
    except DecodeError as error:
        tally.skip("undecodable")
        if err is not None:
            print(f"xsettle: {name} skipped: {error}", file=err)
        return None


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


Render = Callable[[ConsumerRecord, "Tally"], dict[str, Any] | None]
"""A record as a JSON-ready line, or None (not printed; the renderer tallies why)."""


@dataclass(frozen=True)
class Listing:
    """What a listing command prints: its topics, how a record renders, its name in the
    progress and summary lines, and the command (named if no broker is configured)."""

    topics: str | tuple[str, ...]
    render: Render
    label: str
    command: str


def print_topic(
    settings: Settings,
    listing: Listing,
    *,
    from_beginning: bool,
    follow: bool,
) -> Tally:
    """Print each record of the listing's topics as one JSON line on stdout. Without
    ``from_beginning`` only new records, followed until Ctrl-C; with it, every record
    to the ends the topics had, and on if ``follow``.

    Progress on stderr while catching up (unless stdout and stderr share a terminal,
    where it would break up the lines), a line when it starts following, the summary
    at the end, Ctrl-C included: following ends with Ctrl-C.
    """
    follow = follow or not from_beginning
    with open_topics(settings, listing.topics, listing.command) as stream:
        return _print(stream, listing, from_beginning, follow)


def _print(stream: TopicReader, listing: Listing, from_beginning: bool, follow: bool) -> Tally:
    label, render = listing.label, listing.render
    out, err = sys.stdout, sys.stderr
    tally = Tally()
    started = time.monotonic()
    progress: Progress | None = None
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
                progress = Progress(label, stream.backlog, err, summary=False)
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
