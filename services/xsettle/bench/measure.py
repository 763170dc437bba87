"""Measurements over a running broker: the raw round trip, the pipeline, latency, memory."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.record import MemoryRecords

from ..exchange.processes.broker import TopicSpec, ensure_topics
from ..exchange.processes.tansu import FETCH_WAIT_MS
from ..exchange.processes.topic_reader import read_topic
from ..pipeline.client import ExchangeClient
from ..pipeline.pace import offer
from ..pipeline.workers import Worker
from ..presentation import percentile


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """Resident memory of a process in MB (VmHWM: its peak so far; VmRSS: now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_rss(workers: list[Worker], field: str = "VmHWM") -> dict[str, float]:
    return {w.service: rss_mb(w.process.pid, field) for w in workers if w.process and w.alive()}


RAW_SOURCE, RAW_TARGET = "bench.raw-in.v1", "bench.raw-out.v1"
"""The raw round trip's topics: produced to, relayed from one to the other, consumed."""


def raw_round_trip(bootstrap: str, payloads: list[tuple[bytes, bytes]], partitions: int) -> float:
    """Messages/s through produce → consume → produce → consume, nothing in between.

    The topics may hold earlier rounds (the fill curve runs it again on the same broker):
    it reads from their ends and counts only this round's payloads, so the values must
    differ from earlier rounds'.
    """
    source, target = RAW_SOURCE, RAW_TARGET
    ensure_topics(bootstrap, [TopicSpec(source, partitions), TopicSpec(target, partitions)])
    relay = subprocess.Popen(
        [sys.executable, "-m", "xsettle.bench.relay", bootstrap, source, target],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert relay.stdout is not None
        relay.stdout.readline()  # "ready"
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=FETCH_WAIT_MS
        )
        parts = [TopicPartition(target, p) for p in range(partitions)]
        consumer.assign(parts)
        consumer.seek_to_end(*parts)
        for part in parts:  # resolve the positions now, before anything is sent
            consumer.position(part)
        wanted = {value for _, value in payloads}
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, batch_size=256 * 1024)
        started = time.monotonic()
        for key, value in payloads:
            producer.send(source, key=key, value=value)
        producer.flush()
        received = 0
        deadline = started + 300
        while received < len(payloads) and time.monotonic() < deadline:
            received += sum(
                record.value in wanted
                for records in consumer.poll(timeout_ms=200, max_records=5000).values()
                for record in records
            )
        elapsed = time.monotonic() - started
        producer.close()
        consumer.close()
        return received / elapsed
    finally:
        relay.terminate()
        relay.wait(10)


def held_batches(bootstrap: str, prefix: str) -> int:
    """Record batches held by the topics whose names start with ``prefix``: the embedded
    broker's cost per fetch follows these, not records. Each topic is read whole and
    the distinct batches its fetches carried are counted (a client sees records, not
    batches, so the record-set parser is watched while the topics are read)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        topics = sorted(t for t in admin.list_topics() if t.startswith(prefix))
    finally:
        admin.close()
    seen: set[tuple[int, int]] = set()
    original = MemoryRecords.next_batch

    def next_batch(self: MemoryRecords, *args: Any, **kwargs: Any) -> Any:
        batch = original(self, *args, **kwargs)
        if batch is not None:
            seen.add((batch.base_offset, batch.crc))
        return batch

    MemoryRecords.next_batch = next_batch  # type: ignore[method-assign]
    try:
        for topic in topics:
            read_topic(bootstrap, topic)
    finally:
        MemoryRecords.next_batch = original  # type: ignore[method-assign]
    return len(seen)


def sustained(
    client: ExchangeClient, claims: list[tuple[str, str, bytes]]
) -> tuple[float, dict[str, dict[str, Any]]]:
    """Settlements/s with everything submitted at once (first send to last result),
    and the results by request id."""
    started = time.monotonic()
    for person, _, payload in claims:
        client.send_raw(client.topics.claims, payload, key=person.encode())
    client.flush()
    found = client.collect([rid for _, rid, _ in claims], timeout=600)
    return len(found) / (time.monotonic() - started), found


def latency_at(
    client: ExchangeClient, claims: list[tuple[str, str, bytes]], rate: float
) -> dict[str, float]:
    """Submit→result latency percentiles (ms) with claims offered at a steady ``rate``/s
    (paced as ``xsettle run`` paces its day: :func:`~xsettle.pipeline.pace.offer`)."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    client.on_result = lambda result: latencies.append(
        (time.monotonic() - sent[result["request_id"]]) * 1000
    )

    def send(index: int) -> None:
        person, request_id, payload = claims[index]
        sent[request_id] = time.monotonic()
        client.send_raw(client.topics.claims, payload, key=person.encode())

    offer(client, len(claims), send, rate)
    client.collect([rid for _, rid, _ in claims], 120.0)
    ordered = sorted(latencies)
    return {f"p{q}": round(percentile(ordered, q / 100), 1) for q in (50, 95, 99)}
