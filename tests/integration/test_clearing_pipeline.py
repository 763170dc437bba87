"""Clearing (清算, SETTLEMENT_RULES §6) and reconciliation (对账) through the services.

A generated day settled through Kafka, then a clearing worker started on the result
topic: its ``/clearing/{period}`` equals the offline statement; closing the period
publishes exactly those lines on the statement topic; a reversal that comes after the
close lands in the next period as an adjustment, and the closed period stays as it
closed; the dashboard's clearing view shows both periods as the service does, and
reconciled; a SIGKILLed and restarted clearing worker shows the same totals. The
treatment location's payouts reconcile with the insured location's results, and a
payout dropped on one side is found as exactly its claim.
"""

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kafka import KafkaProducer

from xsettle.clearing.control import close_period
from xsettle.clearing.location import next_period, statement_line
from xsettle.clearing.reconcile import read_sides, reconcile
from xsettle.engine.clearing import statement
from xsettle.engine.vocabulary import Route
from xsettle.exchange.contract.codec import AvroCodec
from xsettle.exchange.processes.topic_reader import read_topic
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import settle_via_kafka, submit_scenario
from xsettle.traffic import TrafficMix, generate_day

STATEMENTS = AvroCodec("clearing_statement")


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _until(probe: Callable[[], Any], wanted: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if wanted(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def test_clearing_service_equals_offline_closes_a_period_and_takes_a_late_reversal(
    broker_env: object,
) -> None:
    scenario = generate_day(claims=240, persons=40, seed=14, mix=TrafficMix(life_cycle=0.3))
    offline = scenario.exchange()
    facts = [fact for event in scenario.events if (fact := offline.step(event)[1])]
    assert any(f.result.status.value == "REVERSED" for f in facts)
    assert any(f.route.value == "manual" for f in facts)
    expected = [line.to_record() for line in statement(facts)]
    [period] = {line["period"] for line in expected}
    # A late reversal: of a direct settlement still standing at the end of the day.
    person, claim = next(
        (event["person_id"], event["claim_id"])
        for event in reversed(scenario.events)
        if isinstance(event, dict) and event.get("kind") == "settle" and _standing(offline, event)
    )
    reversal = {"kind": "reverse", "claim_id": claim, "person_id": person}
    late_fact = offline.step(reversal)[1]
    assert late_fact is not None and late_fact.cleared
    [adjustment] = [line.to_record() for line in statement([late_fact])]
    adjustment.update(period=next_period(period), adjusts=period)
    seen: dict[str, Any] = {}

    def inspect(cluster: Cluster) -> None:
        worker = cluster.add_worker("clearing")
        worker.wait_ready()

        def view(which: str) -> Any:
            return _get(f"{cluster.worker('clearing').url}/clearing/{which}")

        seen["open"] = _until(lambda: view(period), lambda v: v["lines"] == expected)
        assert cluster.settings is not None
        close_period(cluster.settings, period)
        seen["closed"] = _until(lambda: view(period), lambda v: v["state"] == "closed")
        topic = cluster.topics.clearing_statements
        seen["published"] = _until(
            lambda: [
                statement_line(STATEMENTS.decode(r.value)) | {"key": r.key.decode()}
                for r in read_topic(cluster.bootstrap, topic)
            ],
            lambda lines: len(lines) >= len(expected),
        )
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            [request] = submit_scenario(client, [reversal], "late")
            client.collect([request], 60)
        finally:
            client.close()
        seen["next"] = _until(lambda: view(next_period(period)), lambda v: v["lines"])
        seen["after"] = view(period)
        # The dashboard's clearing view: the closed statement, the adjustment, both agree.
        dashboard = cluster.add_worker("dashboard")
        dashboard.wait_ready()
        expected_views = [seen["closed"]["lines"], seen["next"]["lines"]]
        seen["dashboard"] = _until(
            lambda: _get(f"{dashboard.url}/api/clearing"),
            lambda v: (
                v["complete"]
                and [p["lines"] for p in v["periods"]] == expected_views
                and all(p["reconciliation"]["agree"] for p in v["periods"])
            ),
        )
        worker.kill()
        cluster.add_worker("clearing", 1).wait_ready()
        seen["restarted"] = [view(period), view(next_period(period))]
        time.sleep(2)  # anything redelivered after the restart is in by now
        seen["settled"] = [view(period), view(next_period(period))]

    settle_via_kafka(scenario, inspect=inspect)

    assert seen["open"] == {"period": period, "state": "open", "closed_at": None, "lines": expected}
    assert seen["closed"]["lines"] == expected
    published = sorted(seen["published"], key=lambda line: line["treatment_province"])
    assert [line["key"] for line in published] == [line["insured_province"] for line in published]
    assert (
        sorted(
            [{k: v for k, v in line.items() if k != "key"} for line in published],
            key=lambda line: (line["insured_province"], line["treatment_province"]),
        )
        == expected
    )
    assert seen["next"]["state"] == "open" and seen["next"]["lines"] == [adjustment]
    assert seen["after"] == seen["closed"]  # a closed period never changes
    shown = seen["dashboard"]["periods"]
    assert [(p["period"], p["state"]) for p in shown] == [
        (period, "closed"),
        (next_period(period), "open"),
    ]
    assert [p["lines"] for p in shown] == [seen["closed"]["lines"], seen["next"]["lines"]]
    assert all(p["reconciliation"]["agree"] for p in shown) and shown[0]["net"]
    assert seen["restarted"] == seen["settled"] == [seen["closed"], seen["next"]]
    assert sum(Decimal(line["owed"]) for line in expected) > 0


def _standing(offline: Any, event: dict[str, Any]) -> bool:
    state = offline.state_of(event.get("person_id"))
    record = state.ledger.claims.get(event.get("claim_id")) if state is not None else None
    return (
        record is not None
        and record.reversal is None
        and record.settlement.route is Route.DIRECT
        and record.date.isoformat() == event.get("date")
    )


def _reconcile_cli(cluster: Cluster, period: str) -> subprocess.CompletedProcess[str]:
    assert cluster.settings is not None
    return subprocess.run(
        [sys.executable, "-m", "xsettle.cli", "reconcile", "--period", period],
        env=cluster.settings.child_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_reconciliation_is_clean_and_finds_exactly_a_dropped_result(broker_env: object) -> None:
    scenario = generate_day(claims=150, persons=30, seed=15, mix=TrafficMix(life_cycle=0.2))
    period = "2025-06"
    seen: dict[str, Any] = {}

    def inspect(cluster: Cluster) -> None:
        assert cluster.settings is not None
        settings = cluster.settings

        def sides() -> Any:
            insured, treatment = read_sides(settings)
            return insured, treatment, reconcile(insured, treatment, period)

        # The treatment location closes its claims as the results come: wait for it.
        insured, treatment, (lines, differences) = _until(sides, lambda s: not s[2][1])
        assert differences == [] and lines and all(line["agree"] for line in lines)
        seen["clean"] = _reconcile_cli(cluster, period)
        # Drop one payout on the treatment side: the reconciliation names that claim only.
        dropped = next(p for p in treatment if p.status == "SETTLED")
        kept = [p for p in treatment if p != dropped]
        seen["dropped"] = dropped, reconcile(insured, kept, period)
        # The same through the command: the claim's register entry deleted in the changelog.
        changelog = f"{settings.namespace}-treatment-claims-changelog"
        key = json.dumps([dropped.person_id, dropped.claim_id], ensure_ascii=False).encode()
        [partition] = {
            r.partition for r in read_topic(cluster.bootstrap, changelog) if r.key == key
        }
        producer = KafkaProducer(bootstrap_servers=cluster.bootstrap)
        producer.send(changelog, key=key, value=None, partition=partition)
        producer.flush()
        producer.close()
        seen["deleted"] = _reconcile_cli(cluster, period)

    settle_via_kafka(scenario, inspect=inspect)

    clean = seen["clean"]
    assert clean.returncode == 0, clean.stderr
    assert "both sides agree" in clean.stderr
    assert all(json.loads(line)["agree"] for line in clean.stdout.splitlines())
    dropped, (lines, differences) = seen["dropped"]
    assert [
        (d["person_id"], d["claim_id"], d["result_id"], d["difference"]) for d in differences
    ] == [(dropped.person_id, dropped.claim_id, dropped.result_id, "only at the insured location")]
    assert [line["insured_province"] for line in lines if not line["agree"]] == [dropped.pair[0]]
    deleted = seen["deleted"]
    assert deleted.returncode == 1, deleted.stderr
    listed = [json.loads(line) for line in deleted.stdout.splitlines()]
    claims = {(d["person_id"], d["claim_id"]) for d in listed if "difference" in d}
    assert claims == {(dropped.person_id, dropped.claim_id)}
    assert "only at the insured location" in deleted.stderr.strip().splitlines()[-1]
