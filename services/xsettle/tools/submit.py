"""``xsettle submit [FILE]``: publish JSON Lines of claims and life-cycle events.

Each non-blank line must be a JSON object with a ``person_id`` (a non-empty string of
at most 256 characters): that is all this checks, enough to key it. The line goes out
exactly as written, keyed by its person (UTF-8): a claim (``settle``, ``reverse``, or
any other kind, which the exchange then rejects) to the claims topic, an insured-side
event (``enrol``, ``file``, ``cancel_filing``, ``manual``) to the person-event topic.
Validating the event is the exchange's work: a malformed one gets its ``INVALID_CLAIM``
answer there.

A person's events stay in file order although they travel on two topics: an event that
takes the other topic than that person's unanswered earlier events is sent once those
have their answers (as a patient's claim waits for the filing to be confirmed). Other
persons' events never wait, and a file of claims alone never waits at all.

A line that is not such an object is reported with its line number and skipped; with
``--strict`` it stops the run (a file is checked whole before anything is sent, so
then nothing is; from stdin, what came before it was sent, and the error says how much).
"""

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from kafka.errors import KafkaError

from ..engine.claims import ID_LIMIT
from ..engine.errors import shown
from ..errors import InfrastructureError, XsettleError
from ..exchange.contract.topics import PERSON_EVENT_KINDS, Topics
from ..pipeline.person_order import ANSWER_TIMEOUT, PersonOrder
from ..pipeline.progress import Progress
from ..settings import Settings
from .console import open_topics, plural

MESSAGE_LIMIT = 1_000_000
"""Largest line sent: the broker's default message limit (``message.max.bytes``) less room."""


@dataclass(frozen=True, slots=True)
class Event:
    """A line fit to send: its person (the key), its bytes as written, and what routes
    and names it."""

    line: int
    person_id: str
    payload: bytes
    kind: Any = None
    request_id: str | None = None
    """The line's own request id, if it gives a usable one (else the exchange derives
    one from where the message lands: ``topic/partition/offset``)."""

    @property
    def insured_side(self) -> bool:
        """An insured-side event (§5), sent to the person-event topic."""
        return self.kind in PERSON_EVENT_KINDS


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    why: str


def read_line(number: int, raw: bytes) -> Event | BadLine | None:
    """One input line: an event to send, a line to report, or None (blank)."""
    text = raw.strip()
    if not text:
        return None
    if len(text) > MESSAGE_LIMIT:
        return BadLine(
            number, f"{len(text):,} bytes, over the {MESSAGE_LIMIT:,}-byte message limit"
        )
    try:
        event = json.loads(text.decode("utf-8"))
    except UnicodeDecodeError as error:
        return BadLine(number, f"not UTF-8 (byte {error.start + 1} of the line)")
    except json.JSONDecodeError as error:
        return BadLine(number, f"not JSON: {error.msg} at column {error.colno}")
    except (ValueError, RecursionError) as error:  # e.g. an integer of 5,000 digits
        return BadLine(number, f"not JSON: {str(error).splitlines()[0][:120]}")
    if not isinstance(event, dict):
        return BadLine(number, f"expected a JSON object, not {_json_type(event)}")
    if "person_id" not in event:
        return BadLine(number, "no person_id: every event is keyed by its person")
    person = event["person_id"]
    if not isinstance(person, str) or not 0 < len(person) <= ID_LIMIT:
        return BadLine(
            number,
            f"person_id must be a non-empty string of at most {ID_LIMIT} characters, "
            f"not {shown(person)}",
        )
    request_id = event.get("request_id")
    usable = isinstance(request_id, str) and 0 < len(request_id) <= ID_LIMIT
    return Event(number, person, text, event.get("kind"), request_id if usable else None)


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def read_lines(lines: Iterable[bytes]) -> Iterator[Event | BadLine]:
    for number, raw in enumerate(lines, start=1):
        item = read_line(number, raw)
        if item is not None:
            yield item


def events_of(lines: Iterable[bytes], bad: Callable[[BadLine], None]) -> Iterator[Event]:
    """The events to send; each bad line is given to ``bad`` (which may raise)."""
    for item in read_lines(lines):
        if isinstance(item, BadLine):
            bad(item)
        else:
            yield item


@dataclass
class Sent:
    """Deliveries the broker confirmed, and the first failure."""

    acked: int = 0
    failed: int = 0
    first_error: str | None = None

    def ok(self, _metadata: object) -> None:
        self.acked += 1

    def error(self, error: BaseException) -> None:
        self.failed += 1
        if self.first_error is None:
            self.first_error = str(error) or type(error).__name__


class OrderedSender:
    """Sends each event to its topic keyed by its person, keeping each person's events
    in order across the two topics (see the module doc)."""

    def __init__(self, settings: Settings, timeout: float = ANSWER_TIMEOUT) -> None:
        from ..pipeline.client import ExchangeClient

        self.topics = Topics(settings.namespace)
        self.timeout = timeout
        self.client = ExchangeClient(settings.require_bootstrap("xsettle submit"), self.topics)
        self.sent = Sent()
        self.order: PersonOrder[tuple[int, Any]] = PersonOrder()
        """Each person's unanswered events: the line, and its request id or, for a line
        without one, the send's future (the id derives from where the message landed)."""
        self.by_topic: dict[str, int] = {}
        self.waits = 0

    def send(self, event: Event) -> None:
        sent = self.order.admit(
            event.person_id, event.insured_side, lambda earlier: self._await(event, earlier)
        )
        topics = self.topics
        topic = topics.person_events if event.insured_side else topics.claims
        try:
            future = self.client.producer.send(
                topic, key=event.person_id.encode(), value=event.payload
            )
        except KafkaError as error:
            raise InfrastructureError(f"sending line {event.line}: {error}") from None
        future.add_callback(self.sent.ok).add_errback(self.sent.error)
        sent.append((event.line, event.request_id or future))
        self.by_topic[topic] = self.by_topic.get(topic, 0) + 1

    def _await(self, event: Event, earlier: list[tuple[int, Any]]) -> None:
        """Return once the person's ``earlier`` events are answered, which ``event``
        must follow on the other topic."""
        self.flush()
        ids = [
            item if isinstance(item, str) else _derived_id(item.get(timeout=0))
            for _, item in earlier
        ]
        self.waits += 1
        found = self.client.collect(ids, self.timeout)
        if len(found) < len(set(ids)):
            missing = [line for (line, _), i in zip(earlier, ids, strict=True) if i not in found]
            lines = ", ".join(map(str, missing[:5])) + (", …" if len(missing) > 5 else "")
            raise XsettleError(
                f"line {event.line}: {shown(event.person_id)}'s earlier events (line "
                f"{lines}) had no answer within {self.timeout:.0f} s, and this one must "
                "follow them on the other topic; are the exchange's services running?"
            )

    def flush(self) -> None:
        try:
            self.client.flush()
        except KafkaError as error:
            self.sent.error(error)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.client.close()


def _derived_id(metadata: Any) -> str:
    """The request id the exchange gives a message without one (its position)."""
    return f"{metadata.topic}/{metadata.partition}/{metadata.offset}"


def submit(
    settings: Settings,
    path: str | None,
    *,
    strict: bool = False,
    stdin: BinaryIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``xsettle submit``: ``path`` None or ``-`` reads stdin."""
    err = err or sys.stderr
    source = None if path in (None, "-") else Path(path)
    total = _check_file(source, strict) if source is not None else None
    topics = Topics(settings.namespace)
    needed = (topics.claims, topics.person_events, topics.results, topics.registry_results)
    with open_topics(settings, needed, "xsettle submit"):
        pass  # they exist (a producer would have them created with the wrong partitions)
    started = time.monotonic()
    sender = OrderedSender(settings)
    persons: set[str] = set()
    skipped: list[int] = []
    events = 0
    progress = Progress("submit", total, err, summary=False)

    def bad(item: BadLine) -> None:
        if strict:
            raise XsettleError(
                f"line {item.line}: {item.why}; stopped (--strict) after sending "
                f"the {plural(events, 'event')} before it"
            )
        progress.note(f"xsettle: line {item.line} skipped: {item.why}")
        skipped.append(item.line)

    try:
        with _open(source, stdin) as lines:
            for event in events_of(lines, bad):
                sender.send(event)
                persons.add(event.person_id)
                events += 1
                progress.advance()
    finally:
        sender.close()
        progress.finish()
    sent = sender.sent
    if sent.failed or sent.acked < events:
        raise InfrastructureError(
            f"{events - sent.acked} of {events} events were not confirmed by the broker "
            f"({sent.first_error or 'no answer'}); `xsettle results` shows which arrived"
        )
    print(_summary(sender, len(persons), skipped, time.monotonic() - started), file=err)
    return 0


def _summary(sender: OrderedSender, persons: int, skipped: list[int], seconds: float) -> str:
    topics = sender.topics
    where = ", ".join(
        f"{count:,} to {topic}"
        for topic in (topics.claims, topics.person_events)
        if (count := sender.by_topic.get(topic, 0))
    )
    line = (
        f"submit: {plural(sender.sent.acked, 'event')} of {plural(persons, 'person')} sent "
        f"in {seconds:.1f} s ({where or 'nothing'})"
    )
    if sender.waits:
        line += f"; waited {plural(sender.waits, 'time')} for a person's earlier answers"
    if skipped:
        shown_lines = ", ".join(map(str, skipped[:10])) + (", …" if len(skipped) > 10 else "")
        line += f"; {plural(len(skipped), 'line')} skipped ({shown_lines})"
    return line


def _check_file(path: Path, strict: bool) -> int:
    """The events in a file (for progress); with ``strict``, its first bad line is an error
    before anything is sent."""

    def bad(item: BadLine) -> None:
        if strict:
            raise XsettleError(f"{path}: line {item.line}: {item.why}; nothing sent (--strict)")

    with _open(path, None) as lines:
        return sum(1 for _ in events_of(lines, bad))


class _open:
    """The input's lines as bytes: a file, or stdin."""

    def __init__(self, path: Path | None, stdin: BinaryIO | None) -> None:
        self.path = path
        self.stdin = stdin
        self.file: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if self.path is None:
            return self.stdin or sys.stdin.buffer
        try:
            self.file = self.path.open("rb")
        except OSError as error:
            raise XsettleError(f"{self.path}: cannot read: {error.strerror}") from None
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()
