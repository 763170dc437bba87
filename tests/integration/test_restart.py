"""A clean restart changes nothing, and recovery reads the changelog to its true end.

Tansu reports a partition's end as the first offset of its last batch plus one, and
faust recovers a table only up to the end it is told: before the correction in
``exchange/tansu.py`` a worker restarted after SIGTERM settled claims on rows older
than the changelog held (found: account paid twice, deductible charged again).
"""

import tempfile
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from xsettle.exchange.contract.records import record_answer
from xsettle.exchange.processes.broker import EmbeddedBroker, TopicSpec, ensure_topics
from xsettle.exchange.processes.tansu import true_ends
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import submit_scenario
from xsettle.traffic import TrafficMix, generate_day


def test_the_true_end_of_a_partition_is_one_past_its_last_batch() -> None:
    with EmbeddedBroker(Path(tempfile.mkdtemp()) / "broker.log") as broker:
        ensure_topics(broker.bootstrap, [TopicSpec("ends", 1)])
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=50)
        for batch in (5, 1, 3):  # three batches: offsets 0-4, 5, 6-8
            for index in range(batch):
                producer.send("ends", b"%d" % index, partition=0)
            producer.flush()
        producer.close()
        partition = TopicPartition("ends", 0)

        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
        reported = consumer.end_offsets([partition])[partition]
        consumer.close()
        assert reported == 7, "Tansu's quirk: the last batch's first offset + 1"
        assert true_ends(broker.bootstrap, {partition: reported}) == {partition: 9}


def test_a_clean_restart_of_the_insured_worker_changes_nothing(
    broker_env: object, tmp_path: Path
) -> None:
    day = generate_day(claims=450, persons=80, seed=23, mix=TrafficMix(life_cycle=0))
    exchange = day.exchange()
    expected = [exchange.process(event).to_record() for event in day.events]
    third = len(day.events) // 3
    with Cluster(day, tmp_path) as cluster:
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            first = submit_scenario(client, day.events[:third], "restart")
            client.collect(first, 90)
            cluster.worker("insured").stop()
            cluster.add_worker("insured", 1).wait_ready()
            rest = submit_scenario(client, day.events[third:], "restart", third)
            found = client.collect(first + rest, 90)
        finally:
            client.close()
    assert [record_answer(found[rid]).to_record() for rid in first + rest] == expected
