"""The pipeline on Apache Kafka in Docker (testcontainers): where a Docker engine runs,
the example scenario through the services equals the offline engine. Skipped here,
with the reason, on machines with only the docker client."""

from pathlib import Path

from xsettle.pipeline.scenario_run import settle_via_kafka
from xsettle.scenario import load_scenario

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract"


def test_example_scenario_on_apache_kafka_equals_offline(docker_kafka: str) -> None:
    scenario = load_scenario(CONTRACT / "example-scenario.yaml")
    offline = scenario.exchange()
    expected = [offline.process(event).to_record() for event in scenario.events]
    assert [r.to_record() for r in settle_via_kafka(scenario)[0]] == expected
