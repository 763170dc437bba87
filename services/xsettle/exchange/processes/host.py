"""This machine: free loopback ports, child processes that die with their parent, and
what we start and stop as a whole.

The embedded broker and the service workers are our children; whatever ends us
(Ctrl-C, SIGTERM, even SIGKILL) must not leave them running or holding a port.
"""

import contextlib
import ctypes
import os
import signal
import socket
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def die_with_parent() -> None:
    """``preexec_fn`` for a child: its own session (so signals to our terminal's group
    reach only us, and we stop it in order), and SIGTERM when the parent dies."""
    os.setsid()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Started(ABC):
    """Something started and stopped as a whole (a broker, a cluster), usable as ``with``:
    leaving the block stops it, whatever ended the block."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
