"""Enrolment, filing, cancellation and manual reimbursement through the services (§5).

A generated day in which a tenth of the claims come with an insured-side event
(credits, filings made for the trip and then used, cancellations, newcomers, manual
reimbursements) gives through Kafka exactly what it gives offline; the insured
service answers ``/persons/{id}`` and ``/persons/{id}/settlements`` from its tables.
"""

import json
import urllib.request
from typing import Any

from xsettle.engine.money import fmt_money
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import settle_via_kafka
from xsettle.traffic import TrafficMix, generate_day


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_life_cycle_events_through_kafka_equal_offline(broker_env: object) -> None:
    scenario = generate_day(claims=300, persons=40, seed=12, mix=TrafficMix(life_cycle=0.4))
    kinds = {event.get("kind") for event in scenario.events}
    assert {"enrol", "file", "cancel_filing", "manual", "settle", "reverse"} <= kinds
    assert len(scenario.events) >= 400
    offline = scenario.exchange()
    expected = [offline.process(event).to_record() for event in scenario.events]

    # A filing made mid-stream, and that person's next claim: it settles under the filing.
    index = next(
        i
        for i, event in enumerate(scenario.events)
        if event.get("kind") == "file" and expected[i]["status"] == "FILED"
    )
    filer = scenario.events[index]["person_id"]
    claim = next(
        j
        for j in range(index + 1, len(scenario.events))
        if scenario.events[j].get("person_id") == filer
        and scenario.events[j].get("kind") == "settle"
    )
    assert expected[claim]["filing_type"] == scenario.events[index]["type"]
    seen: dict[str, Any] = {}

    def inspect(cluster: Cluster) -> None:
        url = cluster.worker("insured").url
        seen["person"] = _get(f"{url}/persons/{filer}")
        seen["settlements"] = _get(f"{url}/persons/{filer}/settlements")

    results, _ = settle_via_kafka(scenario, inspect=inspect)
    assert [result.to_record() for result in results] == expected

    state = offline.state_of(filer)
    assert state is not None
    person = seen["person"]
    assert person["balance"] == fmt_money(state.balance)
    assert scenario.events[index]["filing_id"] in [f["filing_id"] for f in person["filings"]]
    settled = {s["claim_id"]: s for s in seen["settlements"]["settlements"]}
    assert settled.keys() == state.ledger.claims.keys()
    for claim_id, record in state.ledger.claims.items():
        assert record.settlement.amounts is not None
        assert settled[claim_id]["amounts"] == record.settlement.amounts.as_strings()
