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
from ..errors import XsettleError
from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.records import event_to_claim
from ..exchange.contract.registry import registry_from_env
from ..exchange.contract.topics import PERSON_EVENT_KINDS, Topics
from ..exchange.processes.security import client_options
from ..exchange.processes.tansu import FETCH_WAIT_MS, true_ends
from .person_order import ANSWER_TIMEOUT, PersonOrder


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


class ClientError(XsettleError):
    pass


def no_answer(missing: list[str], timeout: float) -> ClientError:
    """The error when a person's next event cannot be sent: these earlier ones of theirs
    got no answer within ``timeout`` seconds."""
    return ClientError(
        f"{len(missing)} earlier events of a person got no answer within "
        f"{timeout:.0f}s (first: {missing[0]}); the next cannot be sent"
    )


def is_person_event(event: Any) -> bool:
    return isinstance(event, dict) and event.get("kind") in PERSON_EVENT_KINDS


def encode_json(event: Any) -> bytes:
    return json.dumps(event, default=_json_default, ensure_ascii=False).encode()


class ExchangeClient:
    def __init__(
        self, bootstrap: str, topics: Topics, order_timeout: float = ANSWER_TIMEOUT
    ) -> None:
        self.topics = topics
        self.on_result: Callable[[dict[str, Any]], None] | None = None
        """If set, called once for each result first read, whichever call reads it (a
        person's order wait too), so a caller counting results misses none."""
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
        self.partitions = [
            TopicPartition(topic, p)
            for topic in (topics.results, topics.registry_results)
            for p in sorted(self.consumer.partitions_for_topic(topic) or ())
        ]
        self.consumer.assign(self.partitions)
        self.consumer.seek_to_end(*self.partitions)
        # Positions resolved now, before anything is sent, and past the whole last batch:
        # Tansu reports an end inside it (see :func:`true_ends`).
        reported = {partition: self.consumer.position(partition) for partition in self.partitions}
        for partition, end in true_ends(bootstrap, reported).items():
            if end != reported[partition]:
                self.consumer.seek(partition, end)
        self.claim_codec = AvroCodec("hospital_claim", registry_from_env())
        self.result_codec = AvroCodec("settlement_result", registry_from_env())
        self.order_timeout = order_timeout
        self.order: PersonOrder[str] = PersonOrder()
        """Each person's unanswered events, by request id."""
        self.seen: dict[str, dict[str, Any]] = {}
        """Every result read, by request id (the first, if redelivered)."""
        self.codecs = {
            topics.results: self.result_codec,
            topics.registry_results: AvroCodec("registry_result", registry_from_env()),
        }

    def submit(self, event: Any, request_id: str, person_id: str | None) -> None:
        """Send one event as JSON, exactly as given (malformed ones included): a claim to
        the claims topic, an insured-side event (§5) to the person-event topic."""
        body = {**event, "request_id": request_id} if isinstance(event, dict) else event
        insured_side = is_person_event(event)
        topic = self.topics.person_events if insured_side else self.topics.claims
        self._send(topic, person_id, insured_side, request_id, encode_json(body))

    def submit_avro(self, event: ClaimEvent, request_id: str) -> None:
        """Send one validated claim in the Avro form."""
        payload = self.claim_codec.encode(event_to_claim(event, request_id))
        self._send(self.topics.claims, event.person_id, False, request_id, payload)

    def _send(
        self,
        topic: str,
        person_id: str | None,
        insured_side: bool,
        request_id: str,
        payload: bytes,
    ) -> None:
        """Send keyed by person, in the person's order (see :mod:`.person_order`)."""
        if person_id is not None:
            self.order.admit(person_id, insured_side, self._await_answers).append(request_id)
        key = person_id.encode() if person_id else None
        self.producer.send(topic, key=key, value=payload)

    def would_wait(self, person_id: str | None, insured_side: bool) -> bool:
        """Whether sending the person's next event on this path now would wait for
        answers not read yet (see :mod:`.person_order`)."""
        return self.order.would_wait(person_id, insured_side, self.seen)

    def _await_answers(self, request_ids: list[str]) -> None:
        """Return once these requests are answered: the next of their person's events
        takes the other path."""
        self.flush()
        found = self.collect(request_ids, self.order_timeout)
        missing = [rid for rid in request_ids if rid not in found]
        if missing:
            raise no_answer(missing, self.order_timeout)

    def send_raw(self, topic: str, payload: bytes, key: bytes | None = None) -> None:
        self.producer.send(topic, key=key, value=payload)

    def flush(self) -> None:
        self.producer.flush()

    def collect(
        self,
        request_ids: Iterable[str],
        timeout: float,
        *,
        stop_after: int | None = None,
        already: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Results by request id, first one wins (a redelivered request may answer twice).

        Reads on from where the last call stopped and keeps every result it reads, so a
        later call finds what an earlier one read past; ``already`` adds earlier finds,
        ``stop_after`` returns early once that many are found.
        """
        wanted = set(request_ids)
        for request_id, result in (already or {}).items():
            self.seen.setdefault(request_id, result)
        goal = min(len(wanted), stop_after) if stop_after is not None else len(wanted)
        deadline = time.monotonic() + timeout
        found = len(wanted & self.seen.keys())  # then counted as read: once, not per poll
        while found < goal and time.monotonic() < deadline:
            for result in self.read(0.2):
                if result["request_id"] in wanted:
                    found += 1
        return {rid: self.seen[rid] for rid in wanted if rid in self.seen}

    def read(self, timeout: float) -> list[dict[str, Any]]:
        """The results read now (waiting up to ``timeout`` seconds for some) that were
        not seen before; each is kept by request id (the first, if redelivered)."""
        new = []
        for records in self.consumer.poll(
            timeout_ms=int(timeout * 1000), max_records=5000
        ).values():
            for record in records:
                result = self.codecs[record.topic].decode(record.value)
                request_id = result["request_id"]
                if request_id not in self.seen:
                    self.seen[request_id] = result
                    new.append(result)
                    if self.on_result is not None:
                        self.on_result(result)
        return new

    def close(self) -> None:
        self.producer.close()
        self.consumer.close()
