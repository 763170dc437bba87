"""``xsettle run`` (``make run``): a realistic day of traffic through the whole exchange.

Starts the broker and the services, sends the day's claims (mostly Avro, some JSON,
a few undecodable messages for the dead-letter topic), collects every result with
a progress bar, checks the money against the offline engine and prints a report,
then closes the day's clearing period and reconciles it (:mod:`.clearing_summary`).
"""

import gc
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import InvalidClaim, parse_event
from ..engine.claims import ClaimEvent
from ..exchange.contract.records import record_answer
from ..exchange.processes.topic_reader import read_topic
from ..presentation import percentile
from ..settings import Settings
from ..traffic import generate_day
from .clearing_summary import clearing_summary
from .client import ExchangeClient, is_person_event
from .cluster import Cluster
from .pace import offer
from .progress import Progress
from .report import RegionNames, RunReport
from .scenario_run import PipelineError, person_key

AVRO_SHARE = 0.8
"""Most hospitals send Avro; the rest send JSON (and malformed claims only go as JSON)."""
GARBAGE = [
    b"\x00\x01not avro",
    b'{"kind": "settle", truncated',
    b"\xc3\x01" + b"\xff" * 12,
    b"",
    b"\x89PNG\r\n\x1a\n",
]
EMBEDDED_DAY_LIMIT = 50_000
"""Claims a day may have on the embedded broker before its throughput falls below half
its start's (measured on 2 cores: 224 settlements/s with nothing held, 89/s with 57,000
claims held; see the README's benchmark section): a longer day is warned about before
it starts."""
DAY_PARTITIONS = 1
"""Partitions per topic when the day starts its own embedded Tansu (unless
``XSETTLE_PARTITIONS`` says otherwise). The day runs one worker per service, so a second
partition buys nothing, and each costs: at a steady pace every producer sends a batch
per partition per round, every consumer fetches each partition, and Tansu lists a
partition's batches on each fetch that finds data. Measured at 100 events/s over the
first 1,000 events, CPU per event 1 → 2 partitions: broker 0.9 → 1.9 ms, treatment
2.0 → 3.3, insured 1.5 → 2.4, the day's client 1.5 → 2.5; the broker's cost then grows
about half as fast (3.7 vs 4.4 ms per event after 10,000)."""
LATENCY_SHOWN_EVERY = 0.5
"""Seconds between updates of the progress line's p99 (each sorts the latencies)."""


def _status(message: str) -> None:
    print(f"xsettle: {message}", file=sys.stderr, flush=True)


def run_day(
    claims: int, persons: int, keep_serving: bool, timeout: float, rate: float | None
) -> int:
    """The demo day at ``rate`` events/s offered (None: the whole day at once)."""
    if Settings().bootstrap is None and claims > EMBEDDED_DAY_LIMIT:
        _status(_embedded_warning(claims))
    _status(f"generating a day of traffic: {claims} claims over {persons} persons")
    scenario = generate_day(claims=claims, persons=persons)
    events = scenario.events
    # The day lives as long as the run: kept out of the collector's full passes (each
    # went over all of it, ~100 ms for 20,000 claims, measured), which paused the
    # reading of results and so showed up as latency.
    gc.freeze()
    run_dir = Path(tempfile.mkdtemp(prefix="xsettle-run-"))
    started = time.monotonic()
    _status("starting the embedded broker (or KAFKA_BOOTSTRAP_SERVERS) and the services")
    with Cluster(
        scenario,
        run_dir,
        embedded_partitions=DAY_PARTITIONS,
        dashboard=True,
        clearing=True,
    ) as cluster:
        dashboard = cluster.worker("dashboard").url
        _status(f"services ready in {time.monotonic() - started:.1f}s; dashboard at {dashboard}/")
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            day = _drive(client, events, timeout, RegionNames(scenario), rate)
        finally:
            client.close()
        dead = len(read_topic(cluster.bootstrap, cluster.topics.dead_letters))
        request_ids, found = day.request_ids, day.found
        missing = len(request_ids) - len(found)
        if missing:
            raise PipelineError(
                f"{missing} of {len(request_ids)} events got no result within "
                f"{timeout:.0f}s; logs in {run_dir}"
            )
        offline = scenario.exchange()
        differ = [
            rid
            for rid, event in zip(request_ids, events, strict=True)
            if record_answer(found[rid]).to_record() != offline.process(event).to_record()
        ]
        print(
            day.report.render(
                events=len(events),
                seconds=day.seconds,
                latencies_ms=day.latencies,
                offered=None if rate is None else day.offered,
                dead_letters=dead,
                differ_from_offline=differ,
            )
        )
        cleared, reconciled = clearing_summary(cluster, timeout)
        print(cleared)
        if keep_serving:
            _status(f"serving; dashboard at {dashboard}/ — Ctrl-C stops")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                _status("stopping")
    shutil.rmtree(run_dir, ignore_errors=True)
    _status("stopped: broker and services are down")
    return 1 if differ or not reconciled else 0


def _embedded_warning(claims: int) -> str:
    """What the embedded broker will do with a day this long, and how to run it on
    Kafka instead: said before the day starts, not found out at its end."""
    return (
        f"warning: {claims:,} claims on the embedded broker (Tansu) will slow down as the "
        "day goes: it keeps every record batch in memory and lists all of a partition's "
        "batches on every fetch, so its cost per claim grows with what it holds (measured "
        f"on 2 cores: past about {EMBEDDED_DAY_LIMIT:,} claims held the pipeline runs at "
        "less than half its starting rate, and 500,000 claims at full load fell from "
        "1,338 to 174 settlements/s). For a day this long use Apache Kafka: "
        "`make compose-up`, then `KAFKA_BOOTSTRAP_SERVERS=localhost:29092 xsettle run "
        f"--claims {claims}` (see deploy/ and the README's benchmark section)"
    )


@dataclass
class _Day:
    """What driving the day gathered: its report, answers and timings."""

    report: RunReport
    seconds: float = 0.0
    offered: float = 0.0
    """Events/s offered (sent / seconds sending)."""
    latencies: list[float] = field(default_factory=list)
    """Submit→result, ms, in no set order (the progress line sorts them in place)."""
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    request_ids: list[str] = field(default_factory=list)


def _drive(
    client: ExchangeClient,
    events: list[Any],
    timeout: float,
    names: RegionNames,
    rate: float | None,
) -> _Day:
    """Send the day at ``rate`` events/s (None: all at once) and read every answer, all
    through one client (see :mod:`.pace`); the progress shows answers/s and p99 so far.
    Every answer is counted when the client first reads it, also while sending (a
    person's order is kept by reading on)."""
    rng = random.Random(7)
    as_avro = [rng.random() < AVRO_SHARE for _ in events]
    run_id = uuid.uuid4().hex[:8]
    day = _Day(RunReport(names), request_ids=[f"{run_id}-{i}" for i in range(len(events))])
    sent_at: dict[str, float] = {}
    with Progress("answered", len(events)) as answering:
        shown = time.monotonic()

        def on_result(result: dict[str, Any]) -> None:
            nonlocal shown
            now = time.monotonic()
            day.latencies.append((now - sent_at[result["request_id"]]) * 1000)
            day.report.add(result)
            answering.advance()
            if now - shown >= LATENCY_SHOWN_EVERY:
                shown = now
                answering.describe(_so_far(len(sent_at), day.latencies))

        client.on_result = on_result

        def send(index: int) -> None:
            event = events[index]
            request_id = day.request_ids[index]
            sent_at[request_id] = time.monotonic()
            claim = _avro_claim(event)
            if claim is not None and as_avro[index]:
                client.submit_avro(claim, request_id)
            else:
                client.submit(event, request_id, person_key(event))
            if index % 4000 == 0:
                client.send_raw(client.topics.claims, GARBAGE[(index // 4000) % len(GARBAGE)])

        started = time.monotonic()
        day.offered = offer(
            client,
            len(events),
            send,
            rate,
            lambda index: (person_key(events[index]), is_person_event(events[index])),
        )
        day.found = client.collect(day.request_ids, timeout)
        day.seconds = time.monotonic() - started
        answering.describe(_so_far(len(sent_at), day.latencies))
    return day


def _so_far(sent: int, latencies: list[float]) -> str:
    """The progress line's detail: events sent, and the answers' p99 latency so far."""
    latencies.sort()  # in place, and nearly sorted already: cheap for Timsort
    return f"sent {sent:,}, p99 {percentile(latencies, 0.99):,.0f} ms so far"


def _avro_claim(event: Any) -> ClaimEvent | None:
    """The validated hospital claim, if it is one: only those can be sent as Avro (an
    insured-side event, ``manual`` included, goes to the person-event topic as JSON)."""
    if is_person_event(event):
        return None
    try:
        return parse_event(event)
    except InvalidClaim:
        return None
