"""The pipeline's main correctness test: over the real broker and services, every
event gets exactly the result the offline engine gives it."""

from pathlib import Path
from typing import Any

import pytest

from xsettle.pipeline.scenario_run import settle_via_kafka
from xsettle.scenario import Scenario, load_scenario
from xsettle.traffic import generate_day

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract"


def _offline(scenario: Scenario) -> list[dict[str, Any]]:
    exchange = scenario.exchange()
    return [exchange.process(event).to_record() for event in scenario.events]


def test_example_scenario_via_kafka_equals_offline(broker_env: object) -> None:
    scenario = load_scenario(CONTRACT / "example-scenario.yaml")
    piped = [result.to_record() for result in settle_via_kafka(scenario)[0]]
    assert piped == _offline(scenario)


def test_generated_scenario_via_kafka_equals_offline(broker_env: object) -> None:
    scenario = generate_day(claims=400, persons=30, seed=11)
    assert len(scenario.events) >= 300
    assert len({e.get("person_id") for e in scenario.events if e.get("person_id")}) >= 20
    piped = [result.to_record() for result in settle_via_kafka(scenario)[0]]
    offline = _offline(scenario)
    assert piped == offline
    statuses = {record["status"] for record in offline}
    assert statuses >= {"SETTLED", "REJECTED", "REVERSED", "FILED"}, (
        "the scenario exercises every path"
    )


def test_two_insured_workers_in_one_group_give_the_same_results(broker_env: object) -> None:
    """Scaling out is Kafka's: partitions split between workers, ledgers follow them."""
    scenario = generate_day(claims=300, persons=24, seed=12)
    piped = [r.to_record() for r in settle_via_kafka(scenario, insured_workers=2)[0]]
    assert piped == _offline(scenario)


def test_rocksdb_table_storage_gives_the_same_results(
    broker_env: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The production store (``XSETTLE_TABLE_STORE=rocksdb://``, rocksdict) keeps the
    ledgers and the claim register on disk; the money must not change."""
    monkeypatch.setenv("XSETTLE_TABLE_STORE", "rocksdb://")
    monkeypatch.setenv("XSETTLE_DATA_DIR", str(tmp_path))
    scenario = generate_day(claims=300, persons=24, seed=13)
    piped = [result.to_record() for result in settle_via_kafka(scenario)[0]]
    assert piped == _offline(scenario)
    for service, table in (("insured", "ledgers"), ("treatment", "claims")):
        stores = list(tmp_path.glob(f"xsettle-{service}-*/v1/tables/{table}-*.db"))
        assert stores, f"the {service} worker kept its {table} in RocksDB under XSETTLE_DATA_DIR"
