"""The containerised services of ``deploy/docker-compose.yml``, end to end.

``make compose-test`` brings the stack up on Apache Kafka and runs this with
``XSETTLE_COMPOSE_STACK`` set to the host's bootstrap servers. Claims for the persons
of ``deploy/reference.yaml`` go, as JSON, onto the stack's own claims topic; the
services in the containers must answer each exactly as the offline engine does over
the same reference data, and the treatment service must show each claim's final
state. Elsewhere this skips with its reason: there is no stack to talk to.

It expects a fresh stack (``make compose-test`` starts one and removes it): ledgers
left by earlier claims would change deductibles.
"""

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from xsettle.exchange.contract.records import record_answer
from xsettle.exchange.contract.topics import Topics
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.scenario_run import submit_scenario
from xsettle.reference import load_reference
from xsettle.scenario import Scenario
from xsettle.settings import Settings

REFERENCE = Path(__file__).resolve().parents[2] / "deploy" / "reference.yaml"
TREATMENT_URL = os.environ.get("XSETTLE_COMPOSE_TREATMENT_URL", "http://localhost:6067")
DAY = date(2025, 6, 16)

pytestmark = pytest.mark.skipif(
    not os.environ.get("XSETTLE_COMPOSE_STACK"),
    reason="no compose stack to test: `make compose-test` (needs a Docker engine) runs this "
    "against the containers with XSETTLE_COMPOSE_STACK set",
)


def _claims(reference: Scenario, run: str) -> list[dict[str, Any]]:
    """One outpatient claim per person whose first filing is valid on DAY, at a district
    of the filed area, with the first three items of the catalog covering it."""
    exchange = reference.exchange()
    claims = []
    for index, person in enumerate(reference.persons):
        filing = person.filings[0] if person.filings else None
        if filing is None or not filing.valid_on(DAY):
            continue
        region = filing.treatment_region
        district = region[:4] + "02" if region.endswith("00") else region
        catalog = exchange.catalogs.covering(district)
        assert catalog is not None, f"the library has a catalog for {district}"
        claims.append(
            {
                "kind": "settle",
                "claim_id": f"COMPOSE-{run}-{index:03d}",
                "person_id": person.person_id,
                "treatment_region": district,
                "institution_level": 2,
                "medical_type": "outpatient",
                "date": DAY.isoformat(),
                "lines": [
                    {"code": item.code, "unit_price": str(item.typical_price), "quantity": "2"}
                    for item in catalog.items[:3]
                ],
            }
        )
    return claims


def _claim_state(person_id: str, claim_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The treatment service's record of a claim once it is closed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            url = f"{TREATMENT_URL}/claims/{person_id}/{claim_id}"
            with urllib.request.urlopen(url, timeout=5) as reply:
                state = json.loads(reply.read())
            if state.get("state") != "SUBMITTED":
                return state
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"{claim_id} not closed by the treatment service in {timeout}s")
        time.sleep(0.5)


def test_the_containerised_services_settle_as_the_offline_engine() -> None:
    bootstrap = os.environ["XSETTLE_COMPOSE_STACK"]
    reference = load_reference(Settings(bootstrap=bootstrap, embedded=False, reference=REFERENCE))
    run = uuid.uuid4().hex[:6]
    events = _claims(reference, run)
    assert len(events) >= 20, "the deploy reference has enough filed persons"

    client = ExchangeClient(bootstrap, Topics(os.environ.get("XSETTLE_NAMESPACE", "xsettle")))
    try:
        request_ids = submit_scenario(client, events, run)
        found = client.collect(request_ids, timeout=120)
    finally:
        client.close()

    offline = reference.exchange()
    expected = [offline.process(event).to_record() for event in events]
    assert len(found) == len(events), "every claim answered by the containers"
    assert [record_answer(found[rid]).to_record() for rid in request_ids] == expected
    assert any(record["status"] == "SETTLED" for record in expected)
    for event, record in zip(events, expected, strict=True):
        state = _claim_state(event["person_id"], event["claim_id"])
        assert state["state"] == record["status"], event["claim_id"]
        if record["status"] == "SETTLED":
            assert state["psn_cash_pay"] == record["psn_cash_pay"]
