"""The broker misbehaving: stalled, the exchange waits and goes on; dead, workers say so.

A 15 s SIGSTOP of the broker (longer than the consumer session) must be ridden out by
the same worker processes with nothing lost. A SIGKILLed broker must turn every
worker's ``/ready`` false, and SIGTERM must still stop each worker within seconds.
"""

import os
import signal
import time
from pathlib import Path

from xsettle.exchange.contract.records import record_answer
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import submit_scenario
from xsettle.traffic import generate_day

STALL_SECONDS = 15.0


def test_a_stalled_broker_is_ridden_out_without_restarts(
    broker_env: object, tmp_path: Path
) -> None:
    scenario = generate_day(claims=400, persons=50, seed=21)
    exchange = scenario.exchange()
    expected = [exchange.process(event).to_record() for event in scenario.events]
    half = len(scenario.events) // 2
    with Cluster(scenario, tmp_path) as cluster:
        assert cluster.broker is not None and cluster.broker.process is not None
        pids = {worker.process.pid for worker in cluster.workers if worker.process}
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            first = submit_scenario(client, scenario.events[:half], "stall")
            os.kill(cluster.broker.process.pid, signal.SIGSTOP)
            time.sleep(STALL_SECONDS)
            os.kill(cluster.broker.process.pid, signal.SIGCONT)
            rest = submit_scenario(client, scenario.events[half:], "stall", half)
            found = client.collect(first + rest, timeout=120.0)
        finally:
            client.close()
        assert all(worker.alive() for worker in cluster.workers)
        assert {worker.process.pid for worker in cluster.workers if worker.process} == pids
    assert [record_answer(found[rid]).to_record() for rid in first + rest] == expected


def test_a_dead_broker_makes_workers_unready_and_sigterm_still_stops_them(
    broker_env: object, tmp_path: Path
) -> None:
    scenario = generate_day(claims=20, persons=5, seed=2)
    with Cluster(scenario, tmp_path) as cluster:
        if cluster.broker is None:
            return  # an external cluster is not ours to kill
        assert cluster.broker.process is not None
        cluster.broker.process.kill()
        deadline = time.monotonic() + 20.0
        states = {}
        while time.monotonic() < deadline:
            states = {w.service: w.readiness() for w in cluster.workers}
            if all(state is not None and not state["ready"] for state in states.values()):
                break
            time.sleep(0.5)
        for service, state in states.items():
            assert state is not None and state["ready"] is False, (service, state)
            assert state["broker_reachable"] is False, (service, state)
        for worker in cluster.workers:
            assert worker.process is not None
            started = time.monotonic()
            worker.process.send_signal(signal.SIGTERM)
            worker.process.wait(timeout=15.0)
            assert time.monotonic() - started < 15.0
