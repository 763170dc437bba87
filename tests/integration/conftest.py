"""Integration tests run against a real broker, chosen once per session.

``broker_env`` picks, in order: ``KAFKA_BOOTSTRAP_SERVERS`` when set (a real cluster);
else an Apache Kafka container through testcontainers when a Docker engine answers;
else the embedded Tansu broker, which each :class:`~xsettle.pipeline.cluster.Cluster`
starts for itself. It yields the bootstrap servers, or ``None`` for "embedded"; with a
container it sets ``KAFKA_BOOTSTRAP_SERVERS`` for the session, so the same tests run
on whichever broker was chosen.
"""

import os
import subprocess
from collections.abc import Iterator

import pytest

KAFKA_IMAGE = "apache/kafka:3.9.1"


def docker_engine() -> str | None:
    """Why no Docker engine can be used, or None when one answers."""
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"no docker client: {error}"
    if probe.returncode != 0:
        lines = (probe.stderr or probe.stdout).strip().splitlines()
        return f"no Docker engine reachable: {lines[-1] if lines else 'docker info failed'}"
    return None


@pytest.fixture(scope="session")
def broker_env() -> Iterator[str | None]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    if docker_engine() is not None:
        yield None
        return
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka:
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.get_bootstrap_server()
        try:
            yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        finally:
            del os.environ["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="session")
def docker_kafka(broker_env: str | None) -> str:
    """A broker that is real Apache Kafka in Docker; skips (with why) where none runs."""
    reason = docker_engine()
    if reason is not None:
        pytest.skip(reason)
    assert broker_env is not None
    return broker_env
