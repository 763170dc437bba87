"""The end of ``xsettle run``: the day's clearing statement (清算) and its reconciliation (对账).

Once every result is back, the day is settled the way a month is on the national
platform: both locations' records are reconciled first (the treatment location closes
its claims as results reach it, so this waits, within the run's timeout, for its
register to agree), then each period is closed once the clearing service has counted
every result of it (its running lines equal the insured location's side, so nothing of
the day turns into a next period's adjustment), and the statement lines it publishes
are read back from the statement topic. The summary sums them per province: what each
owes as an insured location, what it is owed as a treatment location, and the net.
"""

import json
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from ..clearing.control import close_period
from ..clearing.location import statement_line
from ..clearing.reconcile import (
    Payment,
    agree,
    read_sides,
    reconcile,
    statement_of,
    summary,
)
from ..engine.money import ZERO, fmt_money
from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.registry import registry_from_env
from ..exchange.processes.topic_reader import read_topic
from ..presentation import RegionNames
from ..settings import Settings
from .cluster import Cluster
from .report import number_table, plain_text
from .scenario_run import PipelineError

POLL_SECONDS = 1.0
SHOWN = 5
"""Claim differences printed (all of them: ``xsettle reconcile --period P``)."""
Row = dict[str, Any]
T = TypeVar("T")


def clearing_summary(cluster: Cluster, timeout: float) -> tuple[str, bool]:
    """The summary to print, and whether the day reconciled (a difference fails the run)."""
    settings = cluster.settings
    assert settings is not None, "the cluster is not started"
    insured, treatment = _until(
        lambda: read_sides(settings),
        lambda sides: all(agree(*reconcile(*sides, p)) for p in _periods(*sides)),
        timeout,
    )
    periods = _periods(insured, treatment)
    statements = {
        period: [line.to_record() for _, line in sorted(statement_of(insured, period).items())]
        for period in periods
    }
    clearing = cluster.worker("clearing").url
    for period, expected in statements.items():
        counted = _until(
            lambda period=period: _get(f"{clearing}/clearing/{period}")["lines"],
            lambda lines, expected=expected: lines == expected,
            timeout,
        )
        if counted != expected:
            raise PipelineError(f"the clearing service did not count every result of {period}")
        close_period(settings, period)
    topic = cluster.topics.clearing_statements
    published = _until(
        lambda: _statement_lines(settings, topic),
        lambda lines: all(len(lines.get(p, [])) >= len(statements[p]) for p in periods),
        timeout,
    )
    text = [""]
    clean = True
    for period, expected in statements.items():
        lines = sorted(published.get(period, []), key=_pair)
        if lines != expected:
            raise PipelineError(f"the statement published for {period} is not its results'")
        text += statement_table(period, lines, RegionNames(cluster.reference), topic)
        totals, differences = reconcile(insured, treatment, period)
        clean = clean and agree(totals, differences)
        text.append(f"reconciliation (对账) {summary(period, totals, differences)}")
        text += [f"  {json.dumps(d, ensure_ascii=False)}" for d in differences[:SHOWN]]
    return "\n".join(text), clean


def _periods(insured: list[Payment], treatment: list[Payment]) -> list[str]:
    return sorted({payment.period for payment in (*insured, *treatment)})


def _pair(line: Row) -> tuple[str, str]:
    return line["insured_province"], line["treatment_province"]


def _statement_lines(settings: Settings, topic: str) -> dict[str, list[Row]]:
    """The statement topic's lines by period, in §6's JSON form."""
    codec = AvroCodec("clearing_statement", registry_from_env(settings))
    lines: dict[str, list[Row]] = defaultdict(list)
    for record in read_topic(settings.bootstrap, topic):
        line = statement_line(codec.decode(record.value))
        lines[line["period"]].append(line)
    return lines


def statement_table(period: str, lines: list[Row], names: RegionNames, topic: str) -> list[str]:
    """The period's statement summed per province: what it owes as the insured
    location, what it is owed as the treatment location, and the net of the two."""
    owes: dict[str, Decimal] = defaultdict(lambda: ZERO)
    owed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        owes[line["insured_province"]] += Decimal(line["owed"])
        owed[line["treatment_province"]] += Decimal(line["owed"])
    table = number_table("province", "owes (参保地)", "is owed (就医地)", "net")
    for province in sorted(owes.keys() | owed.keys()):
        net = owed[province] - owes[province]
        table.add_row(
            names(province),
            fmt_money(owes[province]),
            fmt_money(owed[province]),
            fmt_money(net),
        )
    total = sum(owes.values(), ZERO)
    table.add_section()
    table.add_row("total", fmt_money(total), fmt_money(total), fmt_money(ZERO))
    settled = sum(line["settled"] for line in lines)
    reversed_ = sum(line["reversed"] for line in lines)
    return [
        f"clearing (清算) {period}: closed, {len(lines)} statement lines on "
        f"{topic} ({settled} settlements, {reversed_} "
        f"reversals, {fmt_money(total)} owed):",
        plain_text(table),
    ]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _until(probe: Callable[[], T], wanted: Callable[[T], bool], timeout: float) -> T:
    """``probe()`` again until ``wanted`` says yes or ``timeout`` passes: its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if wanted(value) or time.monotonic() > deadline:
            return value
        time.sleep(POLL_SECONDS)
