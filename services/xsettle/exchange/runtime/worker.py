"""The worker process around a faust app: stops when told, even with its broker gone.

faust's clean stop commits offsets and flushes the producer; with the broker dead
those calls wait on retries for minutes. An operator's SIGTERM must stop a worker
within seconds whatever its broker does, and nothing is lost by cutting the wait
short: what was not committed is redelivered to the next worker and answered from
the changelog.
"""

import os
import threading

import faust

STOP_GRACE_SECONDS = 10.0
"""How long a clean stop may take after SIGTERM before the process just exits."""
EXIT_TERMINATED = 143


class Worker(faust.Worker):
    def _on_sigterm(self) -> None:
        deadline = threading.Timer(STOP_GRACE_SECONDS, os._exit, args=(EXIT_TERMINATED,))
        deadline.daemon = True
        deadline.start()
        super()._on_sigterm()
