"""Dead letters: input a service cannot use is kept, with its reason and origin, never dropped.

A dead letter must itself always fit on the wire: a 10 MB message of garbage or a
500 KB key would otherwise make the letter too large to send and stop the worker on
the very message it meant to set aside. So a payload up to :data:`KEPT_PAYLOAD`
bytes is kept whole (and can be replayed after a fix); a larger one is kept as its
size and SHA-256, enough to find and prove it, not to replay it.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

KEPT_PAYLOAD = 256 * 1024
"""Largest value copied into a letter (the broker's default message limit is 1 MB)."""
KEPT_KEY = 1024
"""Largest key copied into a letter."""
REASON_LIMIT = 1000
"""Reasons are one line for an operator, not a dump."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a message came from: enough to find it again."""

    topic: str
    partition: int
    offset: int
    key: bytes | None


def dead_letter(
    origin: Origin, payload: bytes | None, reason: str, service: str, failed_at: datetime
) -> dict[str, Any]:
    """The ``DeadLetter`` record for a message, with every size bounded."""
    kept = payload is not None and len(payload) <= KEPT_PAYLOAD
    key = origin.key
    return {
        "reason": reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 3] + "...",
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "key": key if key is None or len(key) <= KEPT_KEY else None,
        "key_sha256": hashlib.sha256(key).hexdigest() if key and len(key) > KEPT_KEY else None,
        "payload": payload if kept and payload is not None else b"",
        "payload_size": len(payload) if payload is not None else None,
        "payload_sha256": None if kept or payload is None else hashlib.sha256(payload).hexdigest(),
        "service": service,
        "failed_at": failed_at,
    }


def now() -> datetime:
    return datetime.now(UTC)
