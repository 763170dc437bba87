"""deploy/ checked without a Docker engine: the compose file against the Compose
Specification schema, and its commands, files and settings against the package."""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from xsettle.cli import build_parser
from xsettle.dashboard import metrics
from xsettle.dashboard.figures import Figures
from xsettle.pipeline.report import RegionNames
from xsettle.reference import load_reference
from xsettle.settings import VARIABLES, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text())
    jsonschema.Draft201909Validator(schema).validate(COMPOSE)


def test_a_broken_compose_file_is_caught_by_the_schema() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text())
    broken = {
        **COMPOSE,
        "services": {"kafka": {**COMPOSE["services"]["kafka"], "restart": ["always"]}},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(schema).validate(broken)


def test_kafka_is_kraft_single_node_with_replication_factor_one() -> None:
    kafka = COMPOSE["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for key in (
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
    ):
        assert env[key] == 1
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == 0
    assert "healthcheck" in kafka and kafka["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", ["topics", "treatment", "insured", "dashboard", "clearing"])
def test_every_service_command_is_an_xsettle_subcommand(name: str) -> None:
    service = COMPOSE["services"][name]
    build_parser().parse_args(service["command"])  # exits on an unknown command
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"


def test_service_settings_are_ones_the_package_reads() -> None:
    env = COMPOSE["x-service"]["environment"]
    for key in env:
        assert key in VARIABLES.values(), f"{key} is set in compose but read nowhere"
    # compose's values (``${VAR:-default}`` at its default) are valid settings
    values = {key: re.sub(r"^\$\{\w+:-(.*)\}$", r"\1", str(value)) for key, value in env.items()}
    settings = Settings(**values)
    assert settings.bootstrap == "kafka:9092" and not settings.embedded
    assert settings.store == "rocksdb://" and settings.processing_guarantee == "at_least_once"


def test_the_dockerfile_builds_from_files_that_exist() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), path
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert 'ENTRYPOINT ["xsettle"]' in dockerfile and "xsettle" in scripts


def test_mounted_files_exist_and_the_reference_loads() -> None:
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (DEPLOY / source).exists(), source
    reference = load_reference(
        Settings(bootstrap="x:1", embedded=False, reference=DEPLOY / "reference.yaml")
    )
    assert len(reference.persons) >= 50 and len(reference.policies) >= 14


def test_grafana_asks_only_for_metrics_the_dashboard_exports() -> None:
    exported = set(
        re.findall(
            r"^# TYPE (\S+)",
            metrics.render(
                Figures(
                    RegionNames(load_reference(Settings(bootstrap="x:1", embedded=False)))
                ).snapshot(lag=0)
            ),
            flags=re.MULTILINE,
        )
    )
    board = json.loads((DEPLOY / "grafana" / "dashboards" / "xsettle.json").read_text())
    for panel in board["panels"]:
        for target in panel["targets"]:
            names = set(re.findall(r"xsettle_[a-z_]+", target["expr"]))
            assert names <= exported, (panel["title"], names - exported)
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["dashboard:6066"]
