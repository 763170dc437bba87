"""Working around the embedded broker's fetch and end-offset behaviour.

Tansu answers a fetch that finds no data only when ``fetch.max.wait`` runs out; it
is not woken when data arrives but looks again after half the wait, then half the rest,
and so on (``tansu-storage/src/service/fetch.rs``), so data that arrives during a wait
is seen up to half the wait later. faust hard-codes a 1.5 s wait for its consumers,
which put ~400 ms on every hop (measured: produce→agent p50 385 ms at 1.5 s). Embedded
mode therefore shortens the wait, and our own kafka-python clients (the exchange
client, the bench) use the same wait. A claim crosses three fetches (claims, requests,
results), so each adds about a quarter of the wait on average. The cost of a short
wait is idle polling, by the broker (each look is a pass over every partition of the
fetch) and by every consumer: measured on an idle cluster of four workers, broker and
workers together spent 540 ms of CPU per second at 20 ms (10 ms agent batches), 260 ms
at 50 ms and 170 ms at 100 ms (50 ms agent batches, see ``agent_loop.BATCH_WINDOW``).
50 ms keeps most of that saving for about 8 ms more per hop.

A service on no claim's answer path (the dashboard, clearing) waits
:data:`READER_FETCH_WAIT_MS` instead: it sees new data up to a quarter second later,
polls ten times less, and fetches new data a few times a second rather than once per
batch produced. That matters beyond its own CPU: every fetch that finds data makes Tansu
list all the batches of the partition (``dynostore.rs``, ``fetch``), so its cost grows
with the day, once per fetch.
"""

import asyncio
import functools
import time
from typing import Any

import aiokafka
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from kafka import KafkaConsumer, TopicPartition

from .security import client_options

FETCH_WAIT_MS = 50
READER_FETCH_WAIT_MS = 500
_patched = False


def shorten_fetch_wait(wait_ms: int = FETCH_WAIT_MS) -> None:
    """Cap the fetch wait of every aiokafka consumer this process creates."""
    global _patched
    if _patched:
        return
    original = aiokafka.AIOKafkaConsumer.__init__

    @functools.wraps(original)
    def init(self: aiokafka.AIOKafkaConsumer, *args: Any, **kwargs: Any) -> None:
        kwargs["fetch_max_wait_ms"] = min(kwargs.get("fetch_max_wait_ms", 500), wait_ms)
        original(self, *args, **kwargs)

    aiokafka.AIOKafkaConsumer.__init__ = init  # type: ignore[method-assign]
    _patched = True


def recover_whole_batches(bootstrap: str) -> None:
    """Make faust's table recovery read the changelog to its true end on Tansu.

    Tansu reports a partition's end offset as the first offset of its last batch plus
    one (measured: 9 records, the last three produced as one batch, end reported as 7).
    faust recovers a table up to that end and then stops, so the rest of the last
    batch (a person's latest rows, when a batch wrote several) was never recovered:
    a worker restarted after a clean stop settled claims on older rows. The reported
    end is corrected by reading the last batch: the true end is one past its last
    record. faust asks for ends only when it recovers tables, so this costs nothing
    in steady state.
    """
    global _recovery_patched
    if _recovery_patched:
        return
    original = AIOKafkaConsumerThread._highwaters

    @functools.wraps(original)
    async def highwaters(self: AIOKafkaConsumerThread, partitions: list[Any]) -> Any:
        reported = await original(self, partitions)
        return await asyncio.to_thread(true_ends, bootstrap, dict(reported))

    AIOKafkaConsumerThread._highwaters = highwaters  # type: ignore[method-assign]
    _recovery_patched = True


_recovery_patched = False


def true_ends(bootstrap: str, reported: dict[Any, int]) -> dict[Any, int]:
    """Each partition's end: one past the last record of the batch at ``reported - 1``."""
    ends = dict(reported)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **client_options()
    )
    try:
        for tp, end in reported.items():
            if end <= 0:
                continue
            partition = TopicPartition(tp.topic, tp.partition)
            consumer.assign([partition])
            consumer.seek(partition, end - 1)
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                records = consumer.poll(timeout_ms=200).get(partition)
                if records:
                    ends[tp] = max(end, records[-1].offset + 1)
                    break
    finally:
        consumer.close()
    return ends
