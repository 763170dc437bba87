"""Dead letters: input a service cannot use is kept, with its reason and origin, never dropped."""

import logging
from dataclasses import dataclass
from typing import Any

from .codec import AvroCodec
from .records import now_ms

log = logging.getLogger(__name__)


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


class DeadLetters:
    """One service's way to the dead-letter topic (a faust topic of raw bytes)."""

    def __init__(self, topic: Any, codec: AvroCodec, service: str) -> None:
        self.topic = topic
        self.codec = codec
        self.service = service

    def post(self, letter: dict[str, Any]) -> None:
        """Send a letter, keyed by its source topic."""
        self.topic.send_soon(key=letter["topic"].encode(), value=self.codec.encode(letter))

    def keep(self, origin: Origin, payload: bytes, reason: str) -> None:
        """Keep a message this service cannot use, with why."""
        self.post(dead_letter(origin, payload, reason, self.service))

    def failed(self, origin: Origin, payload: bytes, error: Exception) -> None:
        """Keep a message whose processing raised: a defect in us, not in the sender, but
        one message must not stop the exchange. Logged with its trace for the operators."""
        log.exception("%s could not process %s", self.service, origin)
        self.keep(
            origin, payload, f"{self.service} could not process it: {type(error).__name__}: {error}"
        )
