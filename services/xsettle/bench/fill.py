"""Filling a broker for the fill curve: a day's records held without settling them.

The fill curve asks how the pipeline runs once the broker already holds 100,000 or
300,000 claims. Settling them through the pipeline first is slow on the embedded
broker, since it slows as it fills (65–90 settlements/s were measured: hours for
300,000). What a fetch costs there follows the record batches held in the partition it
reads (Tansu lists them all on each fetch that finds data), so the fill writes straight
into each topic that is read in steady state what a settled claim leaves in it (its
claim, its request, its result; the changelogs are read only on recovery) in batches of
about :data:`FILL_BATCH` records, before the services start, and commits their
consumer groups' offsets past it, as an operator skipping a backlog would. The raw
round trip's topics are filled alike, so both figures of a point see the same broker.
"""

from collections.abc import Sequence

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from ..exchange.contract.topics import Topics
from ..exchange.processes.broker import TopicSpec, ensure_topics
from ..exchange.processes.tansu import true_ends
from ..pipeline.cluster import SERVICES
from .measure import RAW_SOURCE, RAW_TARGET
from .relay import relay_group

FILL_BATCH = 8
"""Records per partition per batch the fill writes: about what the pipeline leaves at
full load (the quick bench measured 0.4–0.8 batches per claim over every topic)."""


def hold(
    bootstrap: str, topics: Topics, partitions: int, payloads: Sequence[tuple[bytes, bytes]]
) -> None:
    """Make a broker whose services have not started yet hold ``payloads`` (key, value)
    in each of the pipeline's read topics and the raw round trip's, with the consumer
    groups that will read them committed past them."""
    filled = [topics.claims, topics.requests, topics.results, RAW_SOURCE, RAW_TARGET]
    ensure_topics(
        bootstrap,
        [*topics.specs(partitions), *(TopicSpec(t, partitions) for t in (RAW_SOURCE, RAW_TARGET))],
    )
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        linger_ms=60_000,  # each round is cut by the flush
        batch_size=4 * 1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    try:
        round_size = FILL_BATCH * partitions
        for start in range(0, len(payloads), round_size):
            for key, value in payloads[start : start + round_size]:
                for topic in filled:
                    producer.send(topic, key=key, value=value)
            producer.flush()
    finally:
        producer.close()
    # The round trip's services read the filled topics (the bench's cluster runs no
    # dashboard or clearing, and its client reads results from their end).
    groups = [topics.group(service) for service in SERVICES]
    for group in [*groups, relay_group(RAW_SOURCE)]:
        _skip_to_end(bootstrap, group, filled)


def _skip_to_end(bootstrap: str, group: str, topics: list[str]) -> None:
    """Commit ``group``'s offsets at the end of every partition of ``topics`` (a group
    skips what it reads of them; an offset for a topic it does not read is never used).
    The group has no members yet: the broker takes a commit from outside only then."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = true_ends(bootstrap, consumer.end_offsets(partitions))
        consumer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
    finally:
        consumer.close()
