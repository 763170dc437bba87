"""Taking an event off the wire: JSON or Avro, its request id, its key checked.

Every event is keyed by its person: the key is what places a person's events in one
partition, in order. An event keyed otherwise (no key, not UTF-8, another person)
could overtake or be overtaken by that person's other events, so the service that
takes it in refuses it as malformed.
"""

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kafka.partitioner.default import murmur2

from ...engine.claims import ID_LIMIT
from ...engine.errors import shown
from .codec import AvroCodec, DecodeError, looks_like_avro
from .deadletter import Origin


def decode_event(
    payload: bytes, codec: AvroCodec, to_event: Callable[[dict[str, Any]], Any]
) -> Any:
    """An event as a dict: Avro when framed as Avro (``to_event`` maps the record),
    else JSON with exact decimals."""
    if looks_like_avro(payload):
        return to_event(codec.decode(payload))
    try:
        return json.loads(payload, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise DecodeError(f"neither Avro nor JSON: {error}") from None


def request_id_of(raw: Any, origin: Origin) -> str:
    """The producer's request id, else one derived from the message's position.

    Derived ids are stable across redelivery, which is what makes replays harmless.
    """
    given = raw.get("request_id") if isinstance(raw, dict) else None
    return (
        given
        if isinstance(given, str) and 0 < len(given) <= ID_LIMIT
        else f"{origin.topic}/{origin.partition}/{origin.offset}"
    )


def person_of(raw: Any) -> str | None:
    """The event's ``person_id`` if it is a usable id (to key an answer by)."""
    person = raw.get("person_id") if isinstance(raw, dict) else None
    return person if isinstance(person, str) and 0 < len(person) <= ID_LIMIT else None


def key_problem(key: bytes | None, person_id: str) -> str | None:
    """Why ``key`` is not the key of an event of ``person_id``, or None if it is."""
    if key is None:
        return "key: an event must be keyed by its person_id; it has no key"
    try:
        text = key.decode()
    except UnicodeDecodeError:
        return "key: must be the person_id in UTF-8; it is not UTF-8"
    if text != person_id:
        return f"key: must be the person_id {shown(person_id)}, not {shown(text)}"
    return None


def person_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as Java's and aiokafka's)
    gives a key: where every topic of the exchange keeps that person's events."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def partition_problem(key: bytes, partition: int, partitions: int) -> str | None:
    """Why an event keyed ``key`` should not be in ``partition``, or None. A producer
    with another partitioner (librdkafka's default is CRC32) would put a person's events
    where another worker than the one holding the person's state reads them."""
    expected = person_partition(key, partitions)
    if partition == expected:
        return None
    return (
        f"partition: an event keyed {shown(key.decode(errors='replace'))} belongs in "
        f"partition {expected} (Kafka's default murmur2 partitioner), not {partition}"
    )


def bounded(key: bytes | None) -> bytes | None:
    """A message key fit to echo on an answer: a key longer than any id is dropped."""
    return key if key is None or len(key) <= ID_LIMIT else None
