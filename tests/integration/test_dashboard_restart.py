"""The dashboard remembers: a restarted dashboard worker shows the figures it showed
before, and a second replica shows the same ones, because each rebuilds its figures
from the whole result topic instead of keeping them in a process that commits offsets."""

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from answered import answer_all, settlement_results

from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.workers import Worker
from xsettle.traffic import generate_day


def _figures(worker: Worker) -> dict[str, Any]:
    """``/api/figures`` without the consumer lag: how far one process has read is not a
    figure of the results (and is asserted on its own)."""
    with urllib.request.urlopen(f"{worker.url}/api/figures", timeout=5) as response:
        figures: dict[str, Any] = json.load(response)
    figures.pop("consumer_lag")
    return figures


def _once_counted(worker: Worker, results: int, timeout: float = 30.0) -> dict[str, Any]:
    """The figures once the worker has counted ``results`` distinct results."""
    deadline = time.monotonic() + timeout
    while True:
        figures = _figures(worker)
        if figures["results"] == results or time.monotonic() > deadline:
            return figures
        time.sleep(0.25)


def test_a_restarted_dashboard_and_a_replica_show_the_same_figures(
    broker_env: object, tmp_path: Path
) -> None:
    scenario = generate_day(claims=200, persons=40, seed=33)
    with Cluster(scenario, tmp_path, dashboard=True) as cluster:
        distinct = settlement_results(answer_all(cluster, scenario.events, "restart"))

        first = cluster.worker("dashboard")
        before = _once_counted(first, distinct)
        assert before["results"] == distinct
        assert before["settled"] > 0 and before["matrix"]["fund_paid"]
        assert before["fund"]["fund_pay_sumamt"] != "0.00"

        first.stop()
        restarted = cluster.add_worker("dashboard", 1)
        restarted.wait_ready()
        # Ready means caught up: no waiting for the figures to fill in after that.
        assert _figures(restarted) == before

        replica = cluster.add_worker("dashboard", 2)
        replica.wait_ready()
        assert _figures(replica) == before
        assert _figures(restarted) == before
        for worker in (restarted, replica):
            with urllib.request.urlopen(f"{worker.url}/api/figures", timeout=5) as response:
                assert json.load(response)["consumer_lag"] == 0
