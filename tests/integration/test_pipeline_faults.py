"""Faults the exchange must survive, each shown to have really happened.

Workers SIGKILLed and the broker stalled while a dense scenario runs (few persons,
many settles, reversals and re-settles per claim): the output equals offline, no
result id carries two contents, the ledgers a restart would recover equal offline,
and the services report that they did find redelivered requests. Bad input of every
size, and a null value, among good claims: every good claim is answered as offline,
every bad one is an ``INVALID_CLAIM`` or a dead letter; garbage on the request topic
is dead-lettered.
"""

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from faust.serializers import codecs
from kafka import KafkaProducer

from xsettle.engine import Ledger
from xsettle.exchange.contract.codec import AvroCodec
from xsettle.exchange.contract.records import record_answer
from xsettle.exchange.processes.topic_reader import read_topic
from xsettle.exchange.runtime.row_delta import Replay
from xsettle.insured.row import CODEC, PersonRow
from xsettle.pipeline.client import ExchangeClient, encode_json
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import settle_via_kafka, submit_scenario
from xsettle.scenario import Scenario
from xsettle.traffic import DENSE, generate_day

TIMEOUT = 120.0
RESULTS = AvroCodec("settlement_result")


def _offline(scenario: Scenario) -> tuple[list[dict[str, Any]], Any]:
    exchange = scenario.exchange()
    return [exchange.process(event).to_record() for event in scenario.events], exchange


def _ledgers_in_changelog(cluster: Cluster) -> dict[str, Ledger]:
    """Each person's latest ledger as the changelog holds it: what a restart recovers."""
    topic = f"{cluster.topics.namespace}-insured-ledgers-changelog"
    replay = Replay(lambda row: row.version, PersonRow.from_state)
    for record in read_topic(cluster.bootstrap, topic):
        replay.add(record.key.decode(), codecs.loads(CODEC, record.value))
    return {
        person: row.insured.ledger
        for person, row in replay.rows()
        if row.insured is not None and row.insured.ledger.claims
    }


def test_kills_and_a_broker_stall_change_nothing(broker_env: object) -> None:
    scenario = generate_day(claims=700, persons=30, seed=11, mix=DENSE)
    assert len(scenario.events) >= 1000
    expected, offline = _offline(scenario)
    seen: dict[str, Any] = {}

    def inspect(cluster: Cluster) -> None:
        contents: dict[str, set[bytes]] = defaultdict(set)
        for record in read_topic(cluster.bootstrap, cluster.topics.results):
            contents[RESULTS.decode(record.value)["result_id"]].add(record.value)
        seen["twice"] = [
            [RESULTS.decode(value) for value in values]
            for values in contents.values()
            if len(values) > 1
        ]
        seen["ledgers"] = _ledgers_in_changelog(cluster)

    results, summary = settle_via_kafka(scenario, chaos=5, seed=3, inspect=inspect)

    assert [result.to_record() for result in results] == expected
    assert seen["twice"] == [], "a result id published with two contents"
    assert summary is not None
    match = re.fullmatch(r"chaos: 5 kills, (\d+) requests redelivered", summary)
    assert match is not None, summary
    assert int(match.group(1)) > 0, "nothing was redelivered: the drill proved nothing"
    assert seen["ledgers"] == offline.ledgers  # compared as values: 800 == 800.00


def test_bad_input_of_every_size_is_answered_or_dead_lettered(
    broker_env: object, tmp_path: Path
) -> None:
    scenario = generate_day(claims=600, persons=100, seed=8)
    expected, _ = _offline(scenario)
    good = scenario.events[0]
    oversized = {
        "person": {**good, "person_id": "P" * 500_000, "request_id": "bad-person"},
        "code": {
            **good,
            "request_id": "bad-code",
            "lines": [{**good["lines"][0], "code": "X" * 1_200_000}],
        },
        "kind": {**good, "kind": "k" * 3_000_000, "request_id": "bad-kind"},
    }
    garbage = b"\x01" * 10_000_000
    with Cluster(scenario, tmp_path) as cluster:
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        raw = KafkaProducer(bootstrap_servers=cluster.bootstrap, max_request_size=20_000_000)
        try:
            half = len(scenario.events) // 2
            request_ids = submit_scenario(client, scenario.events[:half], "good")
            client.flush()
            for event in oversized.values():
                raw.send(cluster.topics.claims, encode_json(event), key=event["person_id"].encode())
            raw.send(cluster.topics.claims, garbage, key=b"P-GARBAGE")
            raw.send(cluster.topics.claims, None, key=b"P-TOMBSTONE")
            raw.flush()
            request_ids += submit_scenario(client, scenario.events[half:], "good", half)
            bad_ids = [event["request_id"] for event in oversized.values()]
            found = client.collect(request_ids + bad_ids, TIMEOUT)
            letters = [
                AvroCodec("dead_letter").decode(record.value)
                for record in read_topic(cluster.bootstrap, cluster.topics.dead_letters)
            ]
        finally:
            raw.close()
            client.close()

    assert [record_answer(found[rid]).to_record() for rid in request_ids] == expected
    for name, request_id in zip(oversized, bad_ids, strict=True):
        answer = found[request_id]
        assert answer["reason"] == "INVALID_CLAIM", name
        assert len(answer["message"]) < 200, name
    by_key = {letter["key"]: letter for letter in letters}
    assert by_key.keys() == {b"P-GARBAGE", b"P-TOMBSTONE"}
    kept = by_key[b"P-GARBAGE"]
    assert kept["payload"] == b"" and kept["payload_size"] == len(garbage)
    assert kept["payload_sha256"] is not None
    tombstone = by_key[b"P-TOMBSTONE"]
    assert tombstone["payload_size"] is None and "null value" in tombstone["reason"]


@pytest.mark.parametrize("poison", [b"\x00\x00\x00\x00\x07garbage", b"\xc3\x01" + b"\x00" * 8])
def test_garbage_on_the_request_topic_goes_to_dead_letters(
    broker_env: object, tmp_path: Path, poison: bytes
) -> None:
    scenario = generate_day(claims=100, persons=20, seed=5)
    expected, _ = _offline(scenario)
    with Cluster(scenario, tmp_path) as cluster:
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            client.send_raw(cluster.topics.requests, poison, key=b"P-POISON")
            request_ids = submit_scenario(client, scenario.events, "poison")
            found = client.collect(request_ids, TIMEOUT)
            letters = [
                AvroCodec("dead_letter").decode(record.value)
                for record in read_topic(cluster.bootstrap, cluster.topics.dead_letters)
            ]
        finally:
            client.close()
    assert [record_answer(found[rid]).to_record() for rid in request_ids] == expected
    assert [(letter["payload"], letter["service"]) for letter in letters] == [(poison, "insured")]
