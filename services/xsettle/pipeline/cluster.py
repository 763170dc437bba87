"""A running exchange: broker, topics and service workers, started and stopped as one.

The broker is :func:`~xsettle.exchange.processes.broker.open_broker`'s choice: a Tansu of our own
on a free loopback port, or, with ``KAFKA_BOOTSTRAP_SERVERS`` set, the given cluster and
a run-specific namespace (:meth:`Settings.isolated`) so runs never read each other's
messages.
"""

import contextlib
from pathlib import Path

from ..exchange.contract.topics import Topics
from ..exchange.processes.broker import EmbeddedBroker, ensure_topics, open_broker
from ..exchange.processes.host import Started, free_port
from ..scenario import Scenario
from ..settings import EMBEDDED_PARTITIONS, Settings
from .workers import Worker

SERVICES = ("treatment", "insured")
"""The round trip's services; the dashboard and the clearing service are optional and
started on request."""


def write_reference(reference: Scenario, path: Path) -> Path:
    """The services' reference data file: the scenario without its events."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reference.model_dump_json(by_alias=True, exclude={"events"}), "utf-8")
    return path


class Cluster(Started):
    def __init__(
        self,
        reference: Scenario,
        run_dir: Path,
        *,
        partitions: int | None = None,
        embedded_partitions: int = EMBEDDED_PARTITIONS,
        insured_workers: int = 1,
        dashboard: bool = False,
        clearing: bool = False,
        settings: Settings | None = None,
    ) -> None:
        self.reference = reference
        self.base_settings = settings
        """The settings to start from (the environment's when None): a broker already
        running is named by their ``bootstrap``."""
        self.run_dir = run_dir
        self.partitions = partitions
        """As given, else (once started) the broker's default: ``XSETTLE_PARTITIONS``, or
        on an embedded Tansu started for the cluster ``embedded_partitions``."""
        self.embedded_partitions = embedded_partitions
        self.insured_workers = insured_workers
        self.dashboard = dashboard
        self.clearing = clearing
        self.broker: EmbeddedBroker | None = None
        """The Tansu started for this cluster; None on a configured cluster."""
        self.workers: list[Worker] = []
        self.settings: Settings | None = None
        self._resources = contextlib.ExitStack()

    @property
    def topics(self) -> Topics:
        assert self.settings is not None, "the cluster is not started"
        return Topics(self.settings.namespace)

    @property
    def bootstrap(self) -> str:
        assert self.settings is not None, "the cluster is not started"
        return self.settings.bootstrap

    def start(self) -> "Cluster":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        settings = (
            (self.base_settings or Settings())
            .but(
                reference=write_reference(self.reference, self.run_dir / "reference.json"),
                **({} if self.partitions is None else {"partitions": self.partitions}),
            )
            .isolated()
        )
        broker = self._resources.enter_context(
            open_broker(
                settings,
                log_path=self.run_dir / "broker.log",
                embedded_partitions=self.embedded_partitions,
            )
        )
        self.broker = broker.tansu
        self.settings = broker.settings
        self.partitions = broker.settings.partitions
        ensure_topics(broker.bootstrap, self.topics.specs(self.partitions))
        for service in SERVICES:
            count = self.insured_workers if service == "insured" else 1
            for index in range(count):
                self.add_worker(service, index)
        if self.dashboard:
            self.add_worker("dashboard")
        if self.clearing:
            self.add_worker("clearing")
        for worker in self.workers:
            worker.wait_ready()

    def add_worker(self, service: str, index: int = 0) -> Worker:
        assert self.settings is not None, "the cluster is not started"
        worker = Worker(
            service, self.settings, self.run_dir / f"{service}-{index}.log", free_port()
        ).start()
        self.workers.append(worker)
        return worker

    def worker(self, service: str) -> Worker:
        return next(w for w in self.workers if w.service == service and w.alive())

    def stop(self) -> None:
        for worker in reversed(self.workers):
            worker.stop()
        self.workers.clear()
        self._resources.close()
        self.broker = None
