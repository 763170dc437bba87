"""``xsettle settle --via-kafka``: a scenario's events through the real services.

The output must equal the offline run's: that equality is the pipeline's main test.
"""

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from ..engine import Result
from ..errors import XsettleError
from ..exchange.records import record_result
from ..scenario import Scenario
from .client import ExchangeClient
from .cluster import Cluster


class PipelineError(XsettleError):
    pass


def addressed(event: Any, owners: dict[str, str]) -> tuple[Any, str | None]:
    """The event as a hospital would send it, and the person it is keyed by.

    A reversal names only its claim; the hospital knows whose claim it was
    (``owners``: claim id → the person last submitted for it) and says so, since
    the exchange routes every request by person.
    """
    if not isinstance(event, dict):
        return event, None
    person = event.get("person_id")
    claim = event.get("claim_id")
    if isinstance(person, str) and person:
        if event.get("kind") == "settle" and isinstance(claim, str):
            owners[claim] = person
        return event, person
    person = owners.get(claim) if isinstance(claim, str) else None
    if event.get("kind") == "reverse" and person:
        return {**event, "person_id": person}, person
    return event, person


def submit_scenario(client: ExchangeClient, events: list[Any], run_id: str) -> list[str]:
    owners: dict[str, str] = {}
    request_ids = []
    for index, event in enumerate(events):
        request_id = f"{run_id}-{index}"
        sent, person = addressed(event, owners)
        client.submit(sent, request_id, person)
        request_ids.append(request_id)
    client.flush()
    return request_ids


def settle_via_kafka(
    scenario: Scenario, timeout: float = 120.0, insured_workers: int = 1
) -> list[Result]:
    """Run the events through a fresh cluster; its logs are kept only if something fails."""
    run_dir = Path(tempfile.mkdtemp(prefix="xsettle-run-"))
    with Cluster(scenario, run_dir, insured_workers=insured_workers) as cluster:
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            request_ids = submit_scenario(client, scenario.events, uuid.uuid4().hex[:8])
            found = client.collect(request_ids, timeout)
        finally:
            client.close()
    missing = [rid for rid in request_ids if rid not in found]
    if missing:
        raise PipelineError(
            f"{len(missing)} of {len(request_ids)} events got no result "
            f"within {timeout:.0f}s (first: {missing[0]}); logs in {run_dir}"
        )
    shutil.rmtree(run_dir, ignore_errors=True)
    return [record_result(found[rid]) for rid in request_ids]
