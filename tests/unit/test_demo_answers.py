"""The demo day (``xsettle run``) counts every answer once, also those its client read
while sending: a person's event that takes the other path waits for their earlier
answers, and that wait reads on through everything answered so far."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from kafka import TopicPartition

from xsettle.engine.lifecycle_results import EnrolResult, FilingResult
from xsettle.exchange.contract.codec import AvroCodec
from xsettle.exchange.contract.records import registry_result_record, result_record
from xsettle.exchange.contract.topics import Topics
from xsettle.pipeline import client as client_module
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.demo import _drive
from xsettle.pipeline.report import RunReport
from xsettle.presentation import RegionNames
from xsettle.scenario import Scenario
from xsettle.traffic import TrafficMix, generate_day

TOPICS = Topics()
NOW = datetime(2025, 6, 16, 9, 0, tzinfo=UTC)


class FakeExchange:
    """A broker and both services in one: each event sent is answered at once (by the
    offline engine), and the answer is read by the next poll."""

    def __init__(self, scenario: Scenario) -> None:
        self.offline = scenario.exchange()
        self.events: Iterator[dict[str, Any]] = iter(scenario.events)
        self.claim_codec = AvroCodec("hospital_claim")
        self.codecs = {
            TOPICS.results: AvroCodec("settlement_result"),
            TOPICS.registry_results: AvroCodec("registry_result"),
        }
        self.published: list[dict[str, Any]] = []
        self.unread: list[SimpleNamespace] = []

    def answer(self, key: bytes | None, value: bytes) -> None:
        if key is None:  # the demo's undecodable messages: dead letters, no answer
            return
        event = next(self.events)  # one send per event, in the day's order
        sent = json.loads(value) if value[:1] == b"{" else self.claim_codec.decode(value)
        request_id = sent["request_id"]
        outcome = self.offline.process(event)
        person = event.get("person_id")
        if isinstance(outcome, EnrolResult | FilingResult):
            topic = TOPICS.registry_results
            record = registry_result_record(
                outcome,
                kind=event["kind"],
                person_id=person,
                request_id=request_id,
                submitted_at=NOW,
                settled_at=NOW,
            )
        else:
            topic = TOPICS.results
            record = result_record(
                outcome,
                request_id=request_id,
                person_id=person,
                insured_region="320300",
                treatment_region=event.get("treatment_region"),
                submitted_at=NOW,
                settled_at=NOW,
            )
        value = self.codecs[topic].encode(record)
        self.published.append(self.codecs[topic].decode(value))
        self.unread.append(SimpleNamespace(topic=topic, value=value))


class FakeProducer:
    def __init__(self, exchange: FakeExchange) -> None:
        self.exchange = exchange

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        self.exchange.answer(key, value)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeConsumer:
    def __init__(self, exchange: FakeExchange) -> None:
        self.exchange = exchange

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0}

    def assign(self, partitions: list[TopicPartition]) -> None:
        pass

    def seek_to_end(self, *partitions: TopicPartition) -> None:
        pass

    def position(self, partition: TopicPartition) -> int:
        return 0

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        read, self.exchange.unread = self.exchange.unread, []
        return {TopicPartition("answers", 0): read} if read else {}

    def close(self) -> None:
        pass


def test_every_answer_is_counted_also_those_read_while_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = generate_day(claims=120, persons=6, seed=3, mix=TrafficMix(life_cycle=0.5))
    exchange = FakeExchange(scenario)
    monkeypatch.setattr(client_module, "KafkaProducer", lambda **_: FakeProducer(exchange))
    monkeypatch.setattr(client_module, "KafkaConsumer", lambda **_: FakeConsumer(exchange))
    # The fake's ends are true ends: nothing to correct (Tansu's are not; see true_ends).
    monkeypatch.setattr(client_module, "true_ends", lambda _bootstrap, reported: reported)
    names = RegionNames(scenario)
    client = ExchangeClient("fake:9092", TOPICS)

    day = _drive(client, scenario.events, 5.0, names, None)
    report, latencies, found, request_ids = day.report, day.latencies, day.found, day.request_ids

    assert len(found) == len(request_ids) == len(scenario.events)
    expected = RunReport(names)
    for record in exchange.published:
        expected.add(record)
    assert len(latencies) == len(scenario.events)
    assert report.statuses == expected.statuses
    assert report.life_cycle == expected.life_cycle
    assert report.by_insured == expected.by_insured
    assert report.by_treatment == expected.by_treatment
    assert sum(money.claims for money in report.by_treatment.values()) > 60
