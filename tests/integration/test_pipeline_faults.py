"""Faults the exchange must survive: a worker killed mid-stream, garbage on a topic."""

import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from xsettle.engine import Ledger
from xsettle.exchange.codec import AvroCodec
from xsettle.exchange.records import record_result
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import addressed
from xsettle.pipeline.state import read_ledgers
from xsettle.scenario import Scenario
from xsettle.traffic import generate_day

TIMEOUT = 120.0


def _ledger_view(ledger: Ledger) -> Ledger:
    """A ledger without its reply cache (request ids differ between runs by design);
    compared as values, so 0 and 0.00 are the same amount."""
    return replace(ledger, replies={})


@pytest.fixture
def cluster(broker_env: object, tmp_path: Path) -> Any:
    # Persons as sparse as real ones: the replay after a crash must stay within each
    # ledger's reply memory (REPLIES_KEPT requests per person).
    scenario = generate_day(claims=1500, persons=200, seed=5)
    with Cluster(scenario, tmp_path) as running:
        yield running, scenario


def _submit(
    client: ExchangeClient, events: list[Any], run_id: str, owners: dict[str, str], start: int
) -> list[str]:
    request_ids = []
    for index, event in enumerate(events, start):
        sent, person = addressed(event, owners)
        request_id = f"{run_id}-{index}"
        client.submit(sent, request_id, person)
        request_ids.append(request_id)
    client.flush()
    return request_ids


def test_sigkill_of_insured_worker_mid_stream_settles_each_claim_once(
    cluster: tuple[Cluster, Scenario],
) -> None:
    running, scenario = cluster
    events = scenario.events
    half = len(events) // 2
    client = ExchangeClient(running.bootstrap, running.topics)
    owners: dict[str, str] = {}
    run_id = uuid.uuid4().hex[:8]
    try:
        first = _submit(client, events[:half], run_id, owners, 0)
        # Kill once the worker is busy: some but not all of the first half answered.
        seen = client.collect(first, timeout=TIMEOUT, stop_after=half // 3)
        assert 0 < len(seen) < half
        running.worker("insured").kill()
        rest = _submit(client, events[half:], run_id, owners, half)
        running.add_worker("insured", index=1).wait_ready()
        found = client.collect(first + rest, timeout=TIMEOUT, already=seen)
    finally:
        client.close()

    offline = scenario.exchange()
    expected = [offline.process(event).to_record() for event in events]
    assert len(found) == len(events), "every event answered after the restart"
    assert [record_result(found[rid]).to_record() for rid in first + rest] == expected

    # A clean stop flushes the last batch's changelog records, which may trail its results.
    running.worker("insured").stop()
    recovered = read_ledgers(running.bootstrap, running.topics.namespace)
    assert recovered.keys() == offline.ledgers.keys()
    for person, ledger in offline.ledgers.items():
        assert _ledger_view(recovered[person]) == _ledger_view(ledger), person


def test_garbage_on_the_request_topic_goes_to_dead_letters_and_settling_goes_on(
    cluster: tuple[Cluster, Scenario],
) -> None:
    running, scenario = cluster
    events = scenario.events[:200]
    client = ExchangeClient(running.bootstrap, running.topics)
    poison = [b"\x00\x00\x00\x00\x07garbage", b"\xc3\x01" + b"\x00" * 8 + b"junk", b"{}"]
    try:
        owners: dict[str, str] = {}
        first = _submit(client, events[:100], "poison", owners, 0)
        for payload in poison:
            client.send_raw(running.topics.requests, payload, key=b"P-POISON")
        client.flush()
        rest = _submit(client, events[100:], "poison", owners, 100)
        found = client.collect(first + rest, timeout=TIMEOUT)
        letters = _read_all(running, running.topics.dead_letters, expected=len(poison))
    finally:
        client.close()
    assert len(found) == len(events), "settlement went on after the poison messages"
    assert sorted(letter["payload"] for letter in letters) == sorted(poison)
    for letter in letters:
        assert letter["topic"] == running.topics.requests
        assert letter["service"] == "insured"
        assert letter["reason"]


def _read_all(running: Cluster, topic: str, expected: int) -> list[dict[str, Any]]:
    codec = AvroCodec("dead_letter")
    consumer = KafkaConsumer(bootstrap_servers=running.bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        letters: list[dict[str, Any]] = []
        deadline = time.monotonic() + TIMEOUT
        while len(letters) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                letters += [codec.decode(record.value) for record in records]
        return letters
    finally:
        consumer.close()
