"""``xsettle dead-letters list|replay``: look at dead letters, and put them back after a fix.

``list`` prints each letter of the dead-letter topic as a JSON line that names it by its
own ``partition:offset`` (the ``letter`` field) and says why it failed, where its message
came from, its key (text when UTF-8, else base64), its payload's size and SHA-256 and
whether the payload was kept (up to :data:`~xsettle.exchange.contract.deadletter.KEPT_PAYLOAD`).

``replay`` sends the kept payloads of the named letters (or of every letter) back to
their source topic and partition with their original key, one line per letter: what it
replayed and where it landed, or why it skipped it (payload or key too large to have
been kept, a null value, a source topic that is not this exchange's). A message that
fails again simply becomes a new dead letter.
"""

import base64
import hashlib
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from kafka import KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from ..errors import InfrastructureError, XsettleError
from ..exchange.contract.codec import AvroCodec, DecodeError
from ..exchange.contract.deadletter import KEPT_KEY, KEPT_PAYLOAD
from ..exchange.contract.registry import registry_from_env
from ..exchange.contract.topics import Topics
from ..exchange.processes.security import client_options
from ..settings import Settings
from .console import Listing, Tally, decoded, iso_time, open_topics, position, print_topic

DEAD_LETTER = "dead_letter"
REPLAY_HEADER = "xsettle-replay-of"
"""Header on a replayed message: the dead letter it came from (``topic/partition:offset``)."""
_POSITION = re.compile(r"(\d{1,9}):(\d{1,18})")


def letter_position(text: str) -> tuple[int, int]:
    """``"3:17"`` → ``(3, 17)``: how a dead letter is named (its partition and offset)."""
    match = _POSITION.fullmatch(text.strip())
    if match is None:
        raise XsettleError(
            f"--offset {text!r}: expected PARTITION:OFFSET of a dead letter, e.g. 3:17 "
            "(the `letter` field of `xsettle dead-letters list`)"
        )
    return int(match.group(1)), int(match.group(2))


def key_text(key: bytes | None) -> tuple[str | None, str | None]:
    """A key for a JSON line and its encoding: the text when UTF-8, else base64."""
    if key is None:
        return None, None
    try:
        return key.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(key).decode("ascii"), "base64"


@dataclass(frozen=True)
class Payload:
    size: int | None
    """Bytes of the original value; None: it was null (a tombstone)."""
    kept: bool
    """The letter holds the value itself, so it can be replayed."""
    sha256: str | None
    """Hex SHA-256 of the value (the letter's own when not kept, else computed)."""


def payload_of(letter: dict[str, Any]) -> Payload:
    payload: bytes = letter["payload"]
    size = letter.get("payload_size")
    digest = letter.get("payload_sha256")
    if digest is not None:
        return Payload(size, False, digest)
    if size is None and not payload:
        return Payload(None, False, None)
    return Payload(
        len(payload) if size is None else size, True, hashlib.sha256(payload).hexdigest()
    )


def letter_line(record: Any, letter: dict[str, Any]) -> dict[str, Any]:
    """One dead letter as a JSON-ready line, named by its own ``partition:offset``."""
    key, encoding = key_text(letter["key"])
    payload = payload_of(letter)
    return {
        "letter": position(record),
        "partition": record.partition,
        "offset": record.offset,
        "reason": letter["reason"],
        "source_topic": letter["topic"],
        "source_partition": letter["partition"],
        "source_offset": letter["offset"],
        "key": key,
        "key_encoding": encoding,
        "key_sha256": letter.get("key_sha256"),
        "payload_size": payload.size,
        "payload_kept": payload.kept,
        "payload_sha256": payload.sha256,
        "service": letter["service"],
        "failed_at": iso_time(letter["failed_at"]),
    }


class LetterLines:
    """Renders dead letters. ``list`` shows every one (each can be named); ``results
    --dead-letters`` filters by person (a letter's key) and shows a message dead-lettered
    again on redelivery (same source position) ``once``."""

    def __init__(
        self,
        codec: AvroCodec,
        person: str | None,
        err: TextIO | None = None,
        *,
        once: bool = True,
    ) -> None:
        self.codec = codec
        self.person = person.encode() if person is not None else None
        self.err = err
        self.once = once
        self.seen: set[tuple[str, int, int]] = set()

    def __call__(self, record: ConsumerRecord, tally: Tally) -> dict[str, Any] | None:
        letter = decoded(self.codec, record, tally, self.err, position(record))
        if letter is None:
            return None
        if self.person is not None and letter["key"] != self.person:
            tally.skip("filtered out")
            return None
        if self.once:
            source = (letter["topic"], letter["partition"], letter["offset"])
            if source in self.seen:
                tally.skip("duplicate")
                return None
            self.seen.add(source)
        return letter_line(record, letter)


def list_letters(
    settings: Settings,
    *,
    from_beginning: bool,
    follow: bool,
) -> int:
    """``xsettle dead-letters list``: without ``--from-beginning`` only new letters (and
    it keeps following them); with it, every letter, ending at the topic's end unless
    ``--follow``."""
    codec = AvroCodec(DEAD_LETTER, registry_from_env(settings))
    render = LetterLines(codec, None, sys.stderr, once=False)
    listing = Listing(
        Topics(settings.namespace).dead_letters, render, "dead letters", "xsettle dead-letters"
    )
    print_topic(settings, listing, from_beginning=from_beginning, follow=follow)
    return 0


def unreplayable(letter: dict[str, Any], topics: Topics) -> str | None:
    """Why a letter cannot be replayed, or None when it can."""
    payload = payload_of(letter)
    if payload.size is None and not payload.kept:
        return "its value was null (a tombstone): there is nothing to replay"
    if not payload.kept:
        return (
            f"payload not kept: {payload.size:,} bytes, over the {KEPT_PAYLOAD:,}-byte limit "
            f"of a dead letter (sha256 {payload.sha256}); send it again from its origin"
        )
    if letter["key"] is None and letter.get("key_sha256"):
        return f"key not kept: over {KEPT_KEY:,} bytes (sha256 {letter['key_sha256']})"
    inputs = (topics.claims, topics.person_events, topics.requests, topics.results)
    if letter["topic"] not in inputs:
        return (
            f"its source topic {letter['topic']} is not one of this exchange's input topics "
            f"(XSETTLE_NAMESPACE={topics.namespace})"
        )
    return None


def replay_letters(
    settings: Settings,
    positions: list[tuple[int, int]] | None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``xsettle dead-letters replay``: the named letters (``positions``; every one is
    found before any is replayed), or every letter on the topic (None), streamed."""
    out = out or sys.stdout
    err = err or sys.stderr
    started = time.monotonic()
    topics = Topics(settings.namespace)
    replay = _Replay(settings, topics, out)
    with open_topics(settings, topics.dead_letters, "xsettle dead-letters") as stream:
        inputs = (topics.claims, topics.person_events, topics.requests, topics.results)
        partitions = {
            topic: len(stream.consumer.partitions_for_topic(topic) or ()) for topic in inputs
        }
        if positions is None:
            records: Iterable[ConsumerRecord] = stream.records(from_beginning=True, follow=False)
        else:
            named = list(dict.fromkeys(positions))  # once each, in the order named
            records = [stream.record_at(partition, offset) for partition, offset in named]
        try:
            for record in records:
                replay(record, partitions)
        finally:
            replay.producer.close()
    seconds = time.monotonic() - started
    print(
        f"dead letters: {replay.replayed:,} replayed, {replay.skipped:,} skipped of "
        f"{replay.replayed + replay.skipped:,} ({seconds:.1f} s)",
        file=err,
    )
    return 0


class _Replay:
    """Replays one letter at a time, a line for each; a source message once."""

    def __init__(self, settings: Settings, topics: Topics, out: TextIO) -> None:
        self.topics = topics
        self.out = out
        self.codec = AvroCodec(DEAD_LETTER, registry_from_env(settings))
        self.producer = _producer(settings)
        self.replayed = self.skipped = 0
        self.sources: dict[tuple[str, int, int], str] = {}

    def __call__(self, record: ConsumerRecord, partitions: dict[str, int]) -> None:
        name = position(record)
        try:
            letter = self.codec.decode(record.value or b"")
        except DecodeError as error:
            self._skip(name, f"not a dead letter ({error})")
            return
        source = (letter["topic"], letter["partition"], letter["offset"])
        why = unreplayable(letter, self.topics)
        if why is None and source in self.sources:
            why = f"the same message ({_source(letter)}) as letter {self.sources[source]}"
        if why is not None:
            self._skip(name, why)
            return
        self.sources[source] = name
        landed = _send(self.producer, letter, partitions, f"{self.topics.dead_letters}/{name}")
        print(
            f"replayed {name} ({_source(letter)}) → {landed} "
            f"(key {_shown_key(letter['key'])}, {len(letter['payload']):,} bytes)",
            file=self.out,
        )
        self.out.flush()
        self.replayed += 1

    def _skip(self, name: str, why: str) -> None:
        print(f"skipped {name}: {why}", file=self.out)
        self.out.flush()
        self.skipped += 1


def _shown_key(key: bytes | None) -> str:
    text, encoding = key_text(key)
    if text is None:
        return "none"
    shown = text if len(text) <= 60 else text[:57] + "..."
    return repr(shown) if encoding == "utf-8" else f"base64 {shown}"


def _source(letter: dict[str, Any]) -> str:
    return f"{letter['topic']} {letter['partition']}:{letter['offset']}"


def _producer(settings: Settings) -> KafkaProducer:
    bootstrap = settings.require_bootstrap("xsettle dead-letters")
    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            max_request_size=2 * KEPT_PAYLOAD + 64 * 1024,
            **client_options(settings),
        )
    except KafkaError as error:
        raise InfrastructureError(f"cannot reach the broker at {bootstrap}: {error}") from None


def _send(
    producer: KafkaProducer, letter: dict[str, Any], partitions: dict[str, int], origin: str
) -> str:
    """Send a letter's payload to its source topic and partition; where it landed."""
    topic = letter["topic"]
    # Back where it was: the same partition keeps it in order with its person's others.
    partition = letter["partition"] if letter["partition"] < partitions.get(topic, 0) else None
    try:
        future = producer.send(
            topic,
            value=letter["payload"],
            key=letter["key"],
            partition=partition,
            headers=[(REPLAY_HEADER, origin.encode())],
        )
        metadata = future.get(timeout=60)
    except KafkaError as error:
        raise InfrastructureError(f"replaying to {topic}: {error}") from None
    return f"{topic} {metadata.partition}:{metadata.offset}"
