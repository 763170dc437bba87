"""Progress for long work: a live bar on a terminal, a status line every few seconds otherwise."""

import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self, label: str, total: int, stream: TextIO = sys.stderr, every: float = 5.0
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.every = every
        self.done = 0
        self.started = time.monotonic()
        self._shown = 0.0
        self._tty = stream.isatty()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._shown >= (0.1 if self._tty else self.every):
            self._shown = now
            self._show(final=False)

    def finish(self) -> float:
        """Print the final line; returns the elapsed seconds."""
        self._show(final=True)
        return time.monotonic() - self.started

    def _show(self, final: bool) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        share = self.done / self.total if self.total else 1.0
        filled = int(share * 30)
        line = (
            f"{self.label:<10} [{'#' * filled}{'.' * (30 - filled)}] "
            f"{self.done:>7}/{self.total:<7} {self.done / elapsed:>8.0f}/s {elapsed:6.1f}s"
        )
        if self._tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
