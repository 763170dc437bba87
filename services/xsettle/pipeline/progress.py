"""Progress of long work on the command line (``xsettle run``, the console tools).

On a terminal, a live bar drawn by ``rich``; when the stream is not a terminal (CI, a
log file), a plain status line every few seconds instead, and a summary line at the
end. Only clients show progress: nothing here runs inside the services.
"""

import sys
import time
from typing import Self, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as LiveBar
from rich.text import Text


class _Rate(ProgressColumn):
    """Items per second, over rich's recent window."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed or 0:,.0f}/s", style="progress.data.speed")


class Progress:
    """Counts work done out of ``total`` (None: unknown, e.g. stdin; a low estimate is
    raised by counts past it) and shows it on ``stream`` (stderr by default).

    ``summary``: :meth:`finish` leaves a last line (the bar in its final state on a
    terminal, the final count otherwise). Without it (a tool that prints a summary of
    its own) the bar goes away at the end, and the final count is printed only where
    earlier counts were, so quick work leaves no lines at all.
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        stream: TextIO | None = None,
        *,
        every: float = 5.0,
        summary: bool = True,
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.every = every
        self.summary = summary
        self.done = 0
        self.started = self._shown = time.monotonic()
        self.lines = 0
        self.elapsed: float | None = None
        """Set by :meth:`finish`."""
        self.detail = ""
        """Shown after the count (:meth:`describe`)."""
        self._bar: LiveBar | None = None
        if self.stream.isatty():
            console = Console(file=self.stream, force_terminal=True)
            if not console.is_dumb_terminal:
                self._bar = LiveBar(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TaskProgressColumn(),
                    _Rate(),
                    TimeElapsedColumn(),
                    TextColumn("{task.fields[detail]}"),
                    console=console,
                    transient=not summary,
                    redirect_stdout=False,  # stdout may be the command's output
                    redirect_stderr=False,
                )
                self._task = self._bar.add_task(label, total=total, detail="")
                self._bar.start()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            if self.total is not None and self.done > self.total:
                self.total = self.done
                self._bar.update(self._task, total=self.total)
            self._bar.advance(self._task, count)
            return
        now = time.monotonic()
        if now - self._shown >= self.every:
            self._shown = now
            self._line()

    def describe(self, detail: str) -> None:
        """What else the work has shown so far (e.g. a latency), after the count: the
        count alone does not say whether the answers come fast."""
        self.detail = detail
        if self._bar is not None:
            self._bar.update(self._task, detail=detail)

    def note(self, message: str) -> None:
        """A line of its own on the stream (above the bar on a terminal)."""
        if self._bar is not None:
            self._bar.console.print(message, markup=False, highlight=False, soft_wrap=True)
        else:
            self.stream.write(message + "\n")
            self.stream.flush()

    def finish(self) -> float:
        """End the display (see the class doc); returns the seconds it took. Once: a
        second call returns the same."""
        if self.elapsed is not None:
            return self.elapsed
        self.elapsed = time.monotonic() - self.started
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self.summary or self.lines:
            self._line()
        return self.elapsed

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def _line(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        if self.total is not None:
            total = max(self.total, self.done)
            share = self.done / total if total else 1.0
            count = f"{self.done:,}/{total:,} ({share:.0%})"
        else:
            count = f"{self.done:,}"
        self.lines += 1
        detail = f", {self.detail}" if self.detail else ""
        self.stream.write(
            f"{self.label}: {count}, {self.done / elapsed:,.0f}/s, {elapsed:.1f} s{detail}\n"
        )
        self.stream.flush()
