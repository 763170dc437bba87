"""Driving a running cluster as the dashboard tests do: every event sent, every answer
read back, and what the dashboard counts of them."""

from typing import Any

from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import submit_scenario


def answer_all(
    cluster: Cluster, events: list[Any], run: str, timeout: float = 120.0
) -> dict[str, Any]:
    """Each event's answer by request id; every event must get one."""
    client = ExchangeClient(cluster.bootstrap, cluster.topics)
    try:
        request_ids = submit_scenario(client, events, run)
        found = client.collect(request_ids, timeout=timeout)
    finally:
        client.close()
    assert len(found) == len(request_ids)
    return found


def settlement_results(found: dict[str, Any]) -> int:
    """Distinct settlement results: registry answers are not the dashboard's, and a
    re-emitted duplicate (``duplicate_of``) is not a settlement of its own."""
    return len(
        {
            result["result_id"]
            for result in found.values()
            if "kind" not in result and not result["duplicate_of"]
        }
    )
