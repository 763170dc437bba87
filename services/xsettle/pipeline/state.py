"""Reading the services' state back from Kafka: the insured ledgers' changelog.

The changelog is the ledgers' durable form (what a restarted worker recovers), so
reading it shows exactly what the exchange would recover to.
"""

from kafka import KafkaConsumer, TopicPartition

from ..engine import Ledger
from ..exchange.ledger_codec import LedgerCodec
from ..exchange.security import client_options


def ledger_changelog(namespace: str) -> str:
    """faust names a table's changelog ``{app id}-{table}-changelog``."""
    return f"{namespace}-insured-ledgers-changelog"


def read_ledgers(bootstrap: str, namespace: str) -> dict[str, Ledger]:
    """The latest ledger of every person, as the changelog holds it."""
    topic = ledger_changelog(namespace)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **client_options()
    )
    codec = LedgerCodec()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        ledgers: dict[str, Ledger] = {}
        while any(consumer.position(p) < ends[p] for p in partitions):
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.value is not None:
                        ledgers[record.key.decode()] = codec.loads(record.value)
        return ledgers
    finally:
        consumer.close()
