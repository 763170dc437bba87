"""The raw round trip's middle hop: consume and produce again, with no processing.

Same client library as the services (aiokafka), same batching shape (fetch many,
send without awaiting each), so the difference to the pipeline is the settling.
Run as ``python -m xsettle.bench.relay BOOTSTRAP SOURCE TARGET``.
"""

import asyncio
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from ..exchange.processes.tansu import FETCH_WAIT_MS


def relay_group(source: str) -> str:
    """The relay's consumer group: it resumes where the last round's relay stopped."""
    return f"relay-{source}"


async def relay(bootstrap: str, source: str, target: str) -> None:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=relay_group(source),
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=FETCH_WAIT_MS,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await consumer.start()
    await producer.start()
    print("ready", flush=True)
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=2000)
            pending = [
                await producer.send(target, key=record.key, value=record.value)
                for records in batches.values()
                for record in records
            ]
            if pending:
                await asyncio.gather(*pending)
    finally:
        await producer.stop()
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(relay(*sys.argv[1:4]))
