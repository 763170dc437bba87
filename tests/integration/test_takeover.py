"""Two insured workers in one group; one is killed mid-stream and the survivor finishes.

The survivor takes over the dead worker's partitions once the group notices (the
session timeout, 6 s embedded), recovers their rows from the changelog and answers
every request as the offline engine does. The takeover time is measured and printed.
"""

import time
from pathlib import Path

from xsettle.exchange.contract.records import record_answer
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import submit_scenario
from xsettle.traffic import DENSE, generate_day


def test_the_surviving_insured_worker_finishes_equal_to_offline(
    broker_env: object, tmp_path: Path
) -> None:
    scenario = generate_day(claims=500, persons=60, seed=17, mix=DENSE)
    exchange = scenario.exchange()
    expected = [exchange.process(event).to_record() for event in scenario.events]
    half = len(scenario.events) // 2
    with Cluster(scenario, tmp_path, insured_workers=2) as cluster:
        insured = [worker for worker in cluster.workers if worker.service == "insured"]
        assert len(insured) == 2
        victim, survivor = insured
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            first = submit_scenario(client, scenario.events[:half], "takeover")
            client.collect(first, 120, stop_after=half // 3)
            held = (victim.readiness() or {}).get("partitions", 0)
            assert held > 0, "the victim held partitions when it was killed"
            everything = held + (survivor.readiness() or {}).get("partitions", 0)
            killed = time.monotonic()
            victim.kill()
            rest = submit_scenario(client, scenario.events[half:], "takeover", half)
            takeover = None
            while time.monotonic() - killed < 60:
                state = survivor.readiness() or {}
                if state.get("ready") and state.get("partitions") == everything:
                    takeover = time.monotonic() - killed
                    break
                time.sleep(0.1)
            assert takeover is not None, "the survivor never held every partition"
            print(f"\ntakeover: the survivor held every partition {takeover:.1f} s after the kill")
            found = client.collect(first + rest, 120)
        finally:
            client.close()
        assert survivor.alive()
    assert [record_answer(found[rid]).to_record() for rid in first + rest] == expected
