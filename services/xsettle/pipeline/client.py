"""A hospital-side client of the exchange: submit claims, collect their results.

It is what an integration test or a hospital system would write: claims go to the
claims topic keyed by person; results are read from every partition of the result
topic (no consumer group, so no rebalance wait) and matched by ``request_id``.
"""

import json
import time
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ..engine.claims import ClaimEvent
from ..exchange.codec import AvroCodec
from ..exchange.records import event_to_claim
from ..exchange.registry import registry_from_env
from ..exchange.security import client_options
from ..exchange.tansu import FETCH_WAIT_MS
from ..exchange.topics import Topics


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_json(event: Any) -> bytes:
    return json.dumps(event, default=_json_default, ensure_ascii=False).encode()


class ExchangeClient:
    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self.topics = topics
        self.producer = KafkaProducer(
            **client_options(),
            bootstrap_servers=bootstrap,
            linger_ms=5,
            acks="all",
            batch_size=256 * 1024,
            max_request_size=4 * 1024 * 1024,
        )
        self.consumer = KafkaConsumer(
            **client_options(),
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=FETCH_WAIT_MS,
        )
        partitions = self.consumer.partitions_for_topic(topics.results) or set()
        self.partitions = [TopicPartition(topics.results, p) for p in sorted(partitions)]
        self.consumer.assign(self.partitions)
        self.consumer.seek_to_end(*self.partitions)
        for partition in self.partitions:  # resolve positions now, before anything is sent
            self.consumer.position(partition)
        self.claim_codec = AvroCodec("hospital_claim", registry_from_env())
        self.result_codec = AvroCodec("settlement_result", registry_from_env())

    def submit(self, event: Any, request_id: str, person_id: str | None) -> None:
        """Send one hospital claim as JSON, exactly as given (malformed claims included)."""
        body = {**event, "request_id": request_id} if isinstance(event, dict) else event
        self._send(person_id, encode_json(body))

    def submit_avro(self, event: ClaimEvent, request_id: str) -> None:
        """Send one validated claim in the Avro form."""
        self._send(event.person_id, self.claim_codec.encode(event_to_claim(event, request_id)))

    def _send(self, person_id: str | None, payload: bytes) -> None:
        key = person_id.encode() if person_id else None
        self.producer.send(self.topics.claims, key=key, value=payload)

    def send_raw(self, topic: str, payload: bytes, key: bytes | None = None) -> None:
        self.producer.send(topic, key=key, value=payload)

    def flush(self) -> None:
        self.producer.flush()

    def collect(
        self,
        request_ids: Iterable[str],
        timeout: float,
        on_result: Callable[[dict[str, Any]], None] | None = None,
        *,
        stop_after: int | None = None,
        already: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Results by request id, first one wins (a redelivered request may answer twice).

        Reads on from where the last call stopped; ``already`` carries earlier finds,
        ``stop_after`` returns early once that many are found.
        """
        wanted = set(request_ids)
        found = dict(already or {})
        goal = min(len(wanted), stop_after) if stop_after is not None else len(wanted)
        deadline = time.monotonic() + timeout
        while len(wanted & found.keys()) < goal and time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=200, max_records=5000).values():
                for record in records:
                    result = self.result_codec.decode(record.value)
                    request_id = result["request_id"]
                    if request_id in wanted and request_id not in found:
                        found[request_id] = result
                        if on_result is not None:
                            on_result(result)
        return found

    def close(self) -> None:
        self.producer.close()
        self.consumer.close()
