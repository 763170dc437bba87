"""The fault drill (``xsettle settle --scenario S --via-kafka --chaos N``).

While a scenario runs, worker processes are SIGKILLed N times at random points
(insured and treatment alternately; each restarted at once) and the broker is stalled
once for ~10 s (SIGSTOP, SIGCONT). The output must still equal the offline run's.
A drill that redelivered nothing proves nothing, so it reports how many requests the
services themselves found already applied (``redelivered`` on each worker's
``/ready``), read from every worker just before it is killed and at the end.
"""

import os
import random
import signal
import time
from dataclasses import dataclass

from .cluster import Cluster
from .workers import Worker

BROKER_STALL_SECONDS = 10.0
SERVICES = ("insured", "treatment")


@dataclass
class Chaos:
    cluster: Cluster
    kills_wanted: int
    rng: random.Random
    kills: int = 0
    redelivered: int = 0
    stalled: bool = False

    def strike(self) -> None:
        """The next fault: a kill (alternating services), or the broker stall once halfway."""
        if not self.stalled and self.kills >= self.kills_wanted // 2:
            self.stall_broker()
        if self.kills < self.kills_wanted:
            self.kill(SERVICES[self.kills % len(SERVICES)])

    def kill(self, service: str) -> None:
        worker = self.cluster.worker(service)
        self.redelivered += _redelivered(worker)
        worker.kill()
        self.kills += 1
        self.cluster.add_worker(service, self.kills).wait_ready()

    def stall_broker(self) -> None:
        tansu = self.cluster.broker
        if tansu is None or tansu.process is None:  # an external cluster is not ours to stop
            self.stalled = True
            return
        os.kill(tansu.process.pid, signal.SIGSTOP)
        try:
            time.sleep(BROKER_STALL_SECONDS)
        finally:
            os.kill(tansu.process.pid, signal.SIGCONT)
        self.stalled = True

    def finish(self) -> str:
        """The drill's last line, once every result is in."""
        for worker in self.cluster.workers:
            if worker.alive():
                self.redelivered += _redelivered(worker)
        return f"chaos: {self.kills} kills, {self.redelivered} requests redelivered"


def _redelivered(worker: Worker) -> int:
    state = worker.readiness() or {}
    count = state.get("redelivered", 0)
    return count if isinstance(count, int) else 0
