"""One place that turns :class:`Settings` into a faust app, for every service.

The embedded Tansu broker makes a joining consumer wait about half its session
timeout, so embedded mode uses a short session; real Kafka keeps faust's defaults.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import faust

from ...settings import Settings
from ..contract.codec import AvroCodec
from ..contract.registry import SchemaRegistry, registry_from_env
from ..contract.topics import Topics
from ..processes.host import free_port
from ..processes.security import Security
from ..processes.tansu import (
    FETCH_WAIT_MS,
    READER_FETCH_WAIT_MS,
    recover_whole_batches,
    shorten_fetch_wait,
)
from .agent_loop import AgentLoop, Status
from .offsets import consume_every_offset
from .tables import Rows


def make_app(
    service: str, settings: Settings, *, answer_path: bool = True, **extra: Any
) -> faust.App:
    """``service``'s faust app; ``answer_path=False`` for a service no claim's answer
    waits for (on the embedded broker it then polls less: see :mod:`..processes.tansu`)."""
    consume_every_offset()
    tuning: dict[str, Any] = {}
    if settings.embedded:
        shorten_fetch_wait(FETCH_WAIT_MS if answer_path else READER_FETCH_WAIT_MS)
        recover_whole_batches(settings.require_bootstrap("a worker"))
        tuning = {
            "broker_session_timeout": 6.0,
            "broker_heartbeat_interval": 1.0,
            "broker_rebalance_timeout": 20.0,
        }
    port = settings.web_port or free_port()
    # One directory per worker (RocksDB locks its files): stable across restarts where
    # the port is fixed, as in the containers, so a restart reuses its local tables.
    datadir = settings.data_dir / f"{settings.namespace}-{service}-{port}"
    datadir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        Topics(settings.namespace).group(service),
        broker=[f"kafka://{server}" for server in settings.bootstrap.split(",")],
        store=settings.store,
        datadir=str(datadir),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        processing_guarantee=settings.processing_guarantee,
        table_standby_replicas=0,
        broker_commit_interval=1.0,
        producer_linger_ms=settings.producer_linger_ms,
        producer_max_batch_size=settings.producer_batch_bytes,
        web_enabled=True,
        web_host="127.0.0.1",
        web_port=port,
        web_in_thread=False,
        broker_credentials=Security(settings).faust_credentials(),
        **tuning,
        **extra,
    )


def raw_topic(app: faust.App, *names: str, partitions: int) -> Any:
    """A topic (or several, read as one stream) of undecoded bytes: decoding is ours, so
    bad bytes reach the dead letters."""
    return app.topic(
        *names,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )


@dataclass(frozen=True)
class Wiring:
    """What a service's app is wired from: the app, the schema registry, the public
    topics' names and the worker's status; its raw topics and agent loops."""

    service: str
    app: faust.App
    registry: SchemaRegistry | None
    topics: Topics
    partitions: int
    status: Status = field(default_factory=Status)

    @classmethod
    def of(cls, service: str, settings: Settings, app: faust.App | None = None) -> "Wiring":
        """``service``'s wiring; its app made from ``settings`` unless given."""
        return cls(
            service,
            app or make_app(service, settings),
            registry_from_env(settings),
            Topics(settings.namespace),
            settings.partitions,
        )

    def topic(self, *names: str) -> Any:
        return raw_topic(self.app, *names, partitions=self.partitions)

    def loop(self, rows: Sequence[Rows[Any]], *, durable_before_send: bool) -> AgentLoop:
        """An agent loop whose dead letters go to the dead-letter topic."""
        dead_letters = self.topic(self.topics.dead_letters)
        codec = AvroCodec("dead_letter", self.registry)
        return AgentLoop(
            self.app,
            self.service,
            self.status,
            (dead_letters, codec),
            rows,
            durable_before_send=durable_before_send,
        )
