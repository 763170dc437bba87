"""``xsettle run`` (``make run``): a realistic day of traffic through the whole exchange.

Starts the broker and the services, sends the day's claims (mostly Avro, some JSON,
a few undecodable messages for the dead-letter topic), collects every result with
a progress bar, checks the money against the offline engine and prints a report,
then closes the day's clearing period and reconciles it (:mod:`.clearing_summary`).
"""

import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from ..engine import InvalidClaim, parse_event
from ..engine.claims import ClaimEvent
from ..exchange.contract.records import record_answer
from ..exchange.processes.topic_reader import read_topic
from ..traffic import generate_day
from .clearing_summary import clearing_summary
from .client import ExchangeClient, is_person_event
from .cluster import Cluster
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


def _status(message: str) -> None:
    print(f"xsettle: {message}", file=sys.stderr, flush=True)


def run_day(claims: int, persons: int, keep_serving: bool, timeout: float) -> int:
    _status(f"generating a day of traffic: {claims} claims over {persons} persons")
    scenario = generate_day(claims=claims, persons=persons)
    events = scenario.events
    run_dir = Path(tempfile.mkdtemp(prefix="xsettle-run-"))
    started = time.monotonic()
    _status("starting the embedded broker (or KAFKA_BOOTSTRAP_SERVERS) and the services")
    with Cluster(scenario, run_dir, dashboard=True, clearing=True) as cluster:
        dashboard = cluster.worker("dashboard").url
        _status(f"services ready in {time.monotonic() - started:.1f}s; dashboard at {dashboard}/")
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            report, seconds, latencies, found, request_ids = _drive(
                client, events, timeout, RegionNames(scenario)
            )
            dead = len(read_topic(cluster.bootstrap, cluster.topics.dead_letters))
        finally:
            client.close()
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
            report.render(
                events=len(events),
                seconds=seconds,
                latencies_ms=latencies,
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


def _drive(
    client: ExchangeClient, events: list[Any], timeout: float, names: RegionNames
) -> tuple[RunReport, float, list[float], dict[str, dict], list[str]]:
    """Send the day, then read the rest of its answers. Every answer is counted when the
    client first reads it, also while sending (a person's order wait reads on)."""
    rng = random.Random(7)
    run_id = uuid.uuid4().hex[:8]
    sent_at: dict[str, float] = {}
    request_ids: list[str] = []
    report = RunReport(names)
    latencies: list[float] = []
    answering: Progress | None = None
    """Shown once the day is sent."""

    def on_result(result: dict[str, Any]) -> None:
        latencies.append((time.monotonic() - sent_at[result["request_id"]]) * 1000)
        report.add(result)
        if answering is not None:
            answering.advance()

    client.on_result = on_result
    started = time.monotonic()
    with Progress("submitted", len(events)) as submitting:
        for index, event in enumerate(events):
            request_id = f"{run_id}-{index}"
            person = person_key(event)
            sent_at[request_id] = time.monotonic()
            claim = _avro_claim(event)
            if claim is not None and rng.random() < AVRO_SHARE:
                client.submit_avro(claim, request_id)
            else:
                client.submit(event, request_id, person)
            request_ids.append(request_id)
            submitting.advance()
            if index % 4000 == 0:
                client.send_raw(client.topics.claims, GARBAGE[(index // 4000) % len(GARBAGE)])
        client.flush()

    answering = Progress("answered", len(events))
    with answering:
        answering.advance(len(latencies))  # those read while sending
        found = client.collect(request_ids, timeout)
    return report, time.monotonic() - started, latencies, found, request_ids


def _avro_claim(event: Any) -> ClaimEvent | None:
    """The validated hospital claim, if it is one: only those can be sent as Avro (an
    insured-side event, ``manual`` included, goes to the person-event topic as JSON)."""
    if is_person_event(event):
        return None
    try:
        return parse_event(event)
    except InvalidClaim:
        return None
