"""Integration tests run against a real broker, chosen once per session.

``broker_env`` leaves the choice to :func:`~xsettle.exchange.processes.broker.open_broker`, as
everything else does: ``KAFKA_BOOTSTRAP_SERVERS`` when set (a real cluster); else, when a
Docker engine answers, an Apache Kafka container through testcontainers (``open_broker``'s
``start``), set as ``KAFKA_BOOTSTRAP_SERVERS`` for the session so every client and
:class:`~xsettle.pipeline.cluster.Cluster` uses it; else the embedded Tansu broker, which
each Cluster's own ``open_broker`` starts for itself. It yields the bootstrap servers,
or ``None`` for "embedded".
"""

import contextlib
import subprocess
from collections.abc import Iterator

import pytest

from xsettle.exchange.processes.broker import open_broker
from xsettle.settings import Settings

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


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:
    """Apache Kafka in Docker for the block; yields its bootstrap servers."""
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka:
        yield kafka.get_bootstrap_server()


@pytest.fixture(scope="session")
def broker_env() -> Iterator[str | None]:
    settings = Settings()
    if settings.bootstrap is None and docker_engine() is not None:
        yield None  # no cluster and no Docker: each Cluster starts its own Tansu
        return
    with (
        open_broker(settings, start=_kafka_container) as broker,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
        yield broker.bootstrap


@pytest.fixture(scope="session")
def docker_kafka(broker_env: str | None) -> str:
    """A broker that is real Apache Kafka in Docker; skips (with why) where none runs."""
    reason = docker_engine()
    if reason is not None:
        pytest.skip(reason)
    assert broker_env is not None
    return broker_env
