"""Service worker processes: start, wait until ready, stop cleanly, or kill for fault tests."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import XsettleError
from ..exchange.processes.host import die_with_parent
from ..settings import Settings


class WorkerError(XsettleError):
    pass


class Worker:
    """One ``xsettle worker SERVICE`` process with its own web port and log file."""

    def __init__(self, service: str, settings: Settings, log_path: Path, port: int) -> None:
        self.service = service
        self.settings = settings
        self.log_path = log_path
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Worker":
        env = self.settings.but(web_port=self.port).child_environ()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "xsettle.cli", "worker", self.service],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def readiness(self) -> dict[str, object] | None:
        """The worker's ``/ready`` answer (503 while not ready), or None if it has none."""
        try:
            with urllib.request.urlopen(f"{self.url}/ready", timeout=2) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
        except OSError:
            return None
        try:
            state = json.loads(body)
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise WorkerError(
                    f"{self.service} worker exited with code "
                    f"{self.process.returncode}; see {self.log_path}"
                )
            state = self.readiness()
            if state and state.get("ready"):
                return
            time.sleep(0.25)
        raise WorkerError(
            f"{self.service} worker not ready after {timeout:.0f}s; see {self.log_path}"
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown, no final commit."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
