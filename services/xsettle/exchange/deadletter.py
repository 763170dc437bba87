"""Dead letters: undecodable input is kept, with its reason and origin, never dropped."""

from dataclasses import dataclass
from typing import Any

from .records import now_ms


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a message came from: enough to find it again."""

    topic: str
    partition: int
    offset: int
    key: bytes | None


def dead_letter(origin: Origin, payload: bytes, reason: str, service: str) -> dict[str, Any]:
    return {
        "reason": reason,
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "key": origin.key,
        "payload": payload,
        "service": service,
        "failed_at": now_ms(),
    }
