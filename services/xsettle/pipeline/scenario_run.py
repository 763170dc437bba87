"""``xsettle settle --via-kafka``: a scenario's events through the real services.

The output must equal the offline run's: that equality is the pipeline's main test.
"""

import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine.events import Outcome
from ..errors import XsettleError
from ..exchange.contract.records import record_answer
from ..scenario import Scenario
from .chaos import Chaos
from .client import ExchangeClient
from .cluster import Cluster


class PipelineError(XsettleError):
    pass


def person_key(event: Any) -> str | None:
    """The person an event is keyed by, as a hospital keys it: its ``person_id``.

    An event without one is sent without a key and answered ``INVALID_CLAIM``, as
    offline; nothing is filled in for it.
    """
    person = event.get("person_id") if isinstance(event, dict) else None
    return person if isinstance(person, str) and person else None


def submit_scenario(
    client: ExchangeClient, events: list[Any], run_id: str, first: int = 0
) -> list[str]:
    """Send events in order, each keyed by its person, as their producers would (the
    client keeps each person's order across the two paths)."""
    request_ids = []
    for index, event in enumerate(events, start=first):
        request_id = f"{run_id}-{index}"
        client.submit(event, request_id, person_key(event))
        request_ids.append(request_id)
    client.flush()
    return request_ids


def settle_via_kafka(
    scenario: Scenario,
    timeout: float = 120.0,
    insured_workers: int = 1,
    chaos: int = 0,
    seed: int | None = None,
    inspect: Callable[[Cluster], None] | None = None,
) -> tuple[list[Outcome], str | None]:
    """Run the events through a fresh cluster; its logs are kept only if something fails.

    With ``chaos`` > 0 the events go in ``chaos + 1`` parts, and after each part but the
    last a fault strikes while the part is still being processed (see
    :mod:`xsettle.pipeline.chaos`); the drill's summary line comes back with the results.
    ``inspect`` sees the cluster once every result is in, before it stops (for tests).
    """
    run_dir = Path(tempfile.mkdtemp(prefix="xsettle-run-"))
    rng = random.Random(seed)
    summary = None
    with Cluster(scenario, run_dir, insured_workers=insured_workers) as cluster:
        drill = Chaos(cluster, chaos, rng)
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            run_id = uuid.uuid4().hex[:8]
            parts = _parts(scenario.events, chaos + 1)
            request_ids: list[str] = []
            for number, part in enumerate(parts):
                request_ids += submit_scenario(client, part, run_id, len(request_ids))
                if number < chaos:
                    time.sleep(rng.uniform(0.05, 0.5))
                    drill.strike()
            found = client.collect(request_ids, timeout * (1 + chaos))
            if chaos:
                summary = drill.finish()
            if inspect is not None:
                inspect(cluster)
        finally:
            client.close()
    missing = [rid for rid in request_ids if rid not in found]
    if missing:
        raise PipelineError(
            f"{len(missing)} of {len(request_ids)} events got no result "
            f"within {timeout:.0f}s (first: {missing[0]}); logs in {run_dir}"
        )
    shutil.rmtree(run_dir, ignore_errors=True)
    return [record_answer(found[rid]) for rid in request_ids], summary


def _parts(events: list[Any], count: int) -> list[list[Any]]:
    size = -(-len(events) // count) if events else 1
    return [events[start : start + size] for start in range(0, max(len(events), 1), size)]
