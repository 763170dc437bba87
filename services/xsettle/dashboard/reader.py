"""The dashboard's reading of a topic: every partition, from its beginning.

No consumer group and no committed offsets: each dashboard process takes all partitions
for itself and reads them from the earliest retained record, so what it shows never
depends on what an earlier process (or a replica) had read. It counts as caught up once
it has read as far as each partition's end when it started; before that its figures
would be partial (for the result topic, the dashboard is not ready).

A topic another service creates (the treatment register's changelog) may not exist
yet: the reader waits for it, asking for the whole cluster's metadata, since a
metadata request that names a missing topic has the broker create it, with the
broker's default partition count instead of the service's.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from ..errors import XsettleError
from ..exchange.processes.security import Security
from ..settings import Settings

log = logging.getLogger(__name__)

BATCH = 2000
WAIT_MS = 200
TOPIC_WAIT_SECONDS = 2.0


class TopicReplay:
    """Feeds every record of ``topic`` to ``ingest``, oldest first per partition."""

    def __init__(
        self, settings: Settings, topic: str, ingest: Callable[[ConsumerRecord], None]
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.ingest = ingest
        self.caught_up = False
        self._started_at_end: dict[TopicPartition, int] = {}
        self._positions: dict[TopicPartition, int] = {}
        self._ends: dict[TopicPartition, int] = {}

    def lag(self) -> int | None:
        """Results on the topic not yet read (None before the first position is known)."""
        if not self._positions:
            return None
        return sum(max(0, self._ends[tp] - offset) for tp, offset in self._positions.items())

    def state(self) -> dict[str, Any]:
        return {
            "ready": self.caught_up,
            "caught_up": self.caught_up,
            "partitions": len(self._started_at_end),
            "lag": self.lag(),
        }

    async def run(self) -> None:
        """Read until cancelled (the app's stop); the consumer is closed on the way out."""
        await self._until_the_topic_exists()
        # Subscribed without a group: aiokafka then assigns every partition itself (and
        # waits for the topic's metadata, which a manual assignment would have to fetch).
        consumer = self._consumer(self.topic)
        await consumer.start()
        try:
            partitions = sorted(consumer.assignment())
            await consumer.seek_to_beginning(*partitions)
            self._started_at_end = await consumer.end_offsets(partitions)
            self._ends = dict(self._started_at_end)
            await self._advance(consumer, partitions)
            while True:
                batches = await consumer.getmany(timeout_ms=WAIT_MS, max_records=BATCH)
                for records in batches.values():
                    for record in records:
                        self.ingest(record)
                await self._advance(consumer, partitions)
        finally:
            await consumer.stop()

    def _consumer(self, *topics: str) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *topics,
            bootstrap_servers=self.settings.require_bootstrap("the dashboard").split(","),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **Security(self.settings).aiokafka_options(),
        )

    async def _until_the_topic_exists(self) -> None:
        probe = self._consumer()
        await probe.start()
        try:
            while self.topic not in await probe.topics():
                log.info("dashboard waiting for topic %s to be created", self.topic)
                await asyncio.sleep(TOPIC_WAIT_SECONDS)
        finally:
            await probe.stop()

    async def _advance(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        """Note positions and ends after a batch; latch ``caught_up`` at the start's ends."""
        if set(consumer.assignment()) != set(partitions):
            # New partitions: aiokafka reassigns all, from the beginning again, which
            # would count results twice. A new process starts clean: stop this one.
            raise XsettleError(f"{self.topic} changed its partitions; restart the dashboard")
        for tp in partitions:
            self._positions[tp] = await consumer.position(tp)
            highwater = consumer.highwater(tp)
            if highwater is not None:
                self._ends[tp] = highwater
        if not self.caught_up and all(
            self._positions[tp] >= end for tp, end in self._started_at_end.items()
        ):
            self.caught_up = True
            log.info("dashboard caught up with %s: %s partitions", self.topic, len(partitions))
