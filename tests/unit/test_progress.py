"""Progress on the command line (``xsettle run``, the console tools): a live bar on a
terminal, plain lines elsewhere (CI, logs), a summary at the end."""

import io

from xsettle.pipeline.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_every_few_seconds_and_a_summary() -> None:
    stream = io.StringIO()
    progress = Progress("answered", 4, stream, every=3600)
    progress.advance(3)
    assert stream.getvalue() == ""  # not yet time for a line
    progress.every = 0
    progress.advance()
    assert stream.getvalue().startswith("answered: 4/4 (100%), ")
    seconds = progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("answered: 4/4 (100%), ")
    assert lines[1].endswith(" s") and "/s, " in lines[1]
    assert progress.finish() == seconds  # once
    assert len(stream.getvalue().splitlines()) == 2


def test_a_tool_with_its_own_summary_is_quiet_for_quick_work() -> None:
    stream = io.StringIO()
    with Progress("results", 2, stream, every=3600, summary=False) as progress:
        progress.advance(5)
    assert stream.getvalue() == ""
    progress = Progress("results", 2, stream, every=0, summary=False)
    progress.advance(5)  # past the estimate: the total is raised
    assert stream.getvalue().startswith("results: 5/5 (100%), ")
    progress.finish()  # a line was shown, so the last count is too
    assert len(stream.getvalue().splitlines()) == 2


def test_an_unknown_total_counts_alone() -> None:
    stream = io.StringIO()
    progress = Progress("submit", None, stream, every=0)
    progress.advance(1234)
    progress.note("xsettle: line 3 skipped: not JSON")
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("submit: 1,234, ")
    assert lines[1] == "xsettle: line 3 skipped: not JSON"


def test_a_terminal_gets_a_live_bar_that_ends_as_the_summary() -> None:
    stream = Terminal()
    progress = Progress("answered", 3, stream)
    assert progress._bar is not None
    progress.advance(3)
    progress.note("a note above the bar")
    progress.finish()
    shown = stream.getvalue()
    assert "answered" in shown and "3/3" in shown and "100%" in shown
    assert "a note above the bar" in shown
    assert "\x1b[" in shown  # drawn live, with cursor control


def test_a_tool_s_bar_goes_away_at_the_end() -> None:
    stream = Terminal()
    with Progress("results", 2, stream, summary=False) as progress:
        progress.advance(5)
        assert progress.total == 5  # a low estimate is raised
    shown = stream.getvalue()
    assert "results" in shown and "\x1b[?25h" in shown  # the cursor shown again
    assert shown.endswith("\x1b[2K")  # and the bar's line erased


def test_a_detail_follows_the_count() -> None:
    stream = io.StringIO()
    progress = Progress("answered", 4, stream, every=0)
    progress.describe("sent 4, p99 120 ms so far")
    progress.advance(2)
    assert stream.getvalue().rstrip().endswith(" s, sent 4, p99 120 ms so far")
    terminal = Terminal()
    bar = Progress("answered", 4, terminal)
    bar.describe("p99 80 ms so far")
    bar.advance(4)
    bar.finish()
    assert "p99 80 ms so far" in terminal.getvalue()
