"""Integration tests run against a real broker, chosen once per session.

``broker_env``: ``KAFKA_BOOTSTRAP_SERVERS`` when set (a real cluster); otherwise
the embedded Tansu broker, which each :class:`~xsettle.pipeline.cluster.Cluster`
starts for itself on a free port. It yields the bootstrap servers, or ``None`` for
"embedded".
"""

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def broker_env() -> Iterator[str | None]:
    yield os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None
