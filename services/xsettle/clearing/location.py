"""The clearing service's handler (清算, SETTLEMENT_RULES §6), with no Kafka.

It reads settlement results and keeps, per period and province pair, the running
statement line of §6, in three tables written through the batch's :class:`Rows`:

- **claims**, keyed by (person, claim): the result ids already applied (a redelivered
  result changes nothing) and the period and route of the claim's settlement, which a
  reversal inherits (a ``REVERSED`` result is cleared in the month of the settlement it
  reverses, and not at all if that was a manual reimbursement);
- **lines**, keyed by (partition, period, insured province, treatment province,
  adjusted period): the running sums. Each row is written only by results of one
  partition, so its changelog record always goes to the same partition; a period's
  line is the sum over partitions;
- **periods**, keyed by period: a closed period, with the statement lines published
  when it closed. A closed period never changes: a result that arrives later for it (a
  late reversal) is booked in the next open period as an adjustment line, which names
  the period it adjusts (``adjusts``).

Everything a period's totals depend on is in this service's own tables, so it runs as
one worker (a period's totals span every person's partition).
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..engine.clearing import CLEARED_AMOUNTS, StatementLine
from ..engine.money import fmt_money
from ..engine.regions import province_of
from ..errors import XsettleError
from ..exchange.runtime.tables import Rows

SERVICE = "clearing"
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
"""``YYYY-MM``."""

Row = dict[str, Any]


class ClearingError(XsettleError, ValueError):
    """A period that is none, or a result the clearing service cannot place (a defect
    upstream: the result goes to the dead letters, to replay after the fix)."""


class LineRows(Rows[Row]):
    """The lines table through a batch, which can also list every line (to close a
    period in the middle of a batch, the batch's own staged lines included)."""

    def items(self) -> Iterator[tuple[bytes, Row]]:
        staged = {key: row for key, (row, _) in self._staged.items()}
        for key, row in list(self.table.items()):
            if key not in staged:
                yield key, row
        yield from staged.items()


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def check_period(period: str) -> str:
    if not PERIOD.fullmatch(period):
        raise ClearingError(f"not a period (YYYY-MM): {period!r}")
    return period


def claim_key(person_id: str, claim_id: str) -> bytes:
    return json.dumps([person_id, claim_id], ensure_ascii=False).encode()


def line_key(
    partition: int, period: str, insured: str, treatment: str, adjusts: str | None
) -> bytes:
    return json.dumps([partition, period, insured, treatment, adjusts]).encode()


def period_key(period: str) -> bytes:
    return period.encode()


def version_of(row: Row) -> int:
    return row["version"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Applied:
    """What a result did: ``counted`` (in ``period``, an adjustment if ``adjusts``),
    or why not: ``redelivered``, ``duplicate``, ``manual``, ``not cleared``."""

    outcome: str
    period: str | None = None
    adjusts: str | None = None


def line_from_record(record: Row) -> StatementLine:
    """A line row (or a published line, in §6's JSON form) as the engine's statement line."""
    line = StatementLine(record["period"], record["insured_province"], record["treatment_province"])
    line.settled, line.reversed = record["settled"], record["reversed"]
    line.sums = {name: Decimal(record[name]) for name in CLEARED_AMOUNTS}
    return line


def line_record(line: StatementLine, adjusts: str | None) -> Row:
    """§6's JSON form of a line; an adjustment also names the period it adjusts."""
    record = line.to_record()
    if adjusts is not None:
        record["adjusts"] = adjusts
    return record


class Clearing:
    def __init__(self, claims: Rows[Row], lines: LineRows, periods: Rows[Row]) -> None:
        self.claims = claims
        self.lines = lines
        self.periods = periods

    def take_result(self, record: Row, partition: int, event: Any) -> Applied:
        """Apply one decoded ``SettlementResult`` (from ``partition``)."""
        status = record["status"]
        person, claim = record.get("person_id"), record.get("claim_id")
        if status not in ("SETTLED", "REVERSED") or not person or not claim:
            return Applied("not cleared")
        if record.get("duplicate_of"):
            return Applied("duplicate")  # a re-emitted settlement moves no money
        key = claim_key(person, claim)
        known = self.claims.get(key, event) or {"seen": [], "period": None, "manual": False}
        if record["result_id"] in known["seen"]:
            return Applied("redelivered")
        row = {
            **known,
            "seen": [*known["seen"], record["result_id"]],
            "version": known.get("version", 0) + 1,
        }
        if status == "SETTLED" or known["period"] is None:
            # A settlement's own facts; a reversal of one never seen here, its own.
            day = record.get("date")
            if day is None:
                raise ClearingError(f"a {status} result without its claim's date")
            row["period"], row["manual"] = period_of(day), record.get("route") == "manual"
        self.claims.put(key, row, event)
        if row["manual"]:
            return Applied("manual")  # paid by the insured location itself: not cleared
        if record.get("amounts") is None:
            raise ClearingError(f"a {status} result without amounts")
        period, adjusts = self._open_period(row["period"], event)
        insured, treatment = record.get("insured_region"), record.get("treatment_region")
        if not insured or not treatment:
            raise ClearingError(f"a {status} result without its regions")
        pair = province_of(insured), province_of(treatment)
        key = line_key(partition, period, *pair, adjusts)
        current = self.lines.get(key, event)
        line = line_from_record(current) if current is not None else StatementLine(period, *pair)
        line.add_amounts(status == "REVERSED", record["amounts"])
        version = current["version"] + 1 if current is not None else 1
        self.lines.put(key, {**line.to_record(), "version": version}, event)
        return Applied("counted", period, adjusts)

    def _open_period(self, period: str, event: Any) -> tuple[str, str | None]:
        """Where a result of ``period`` is booked: there while it is open, else in the
        next open period, as an adjustment of ``period``."""
        booked = period
        while self.periods.get(period_key(booked), event) is not None:
            booked = next_period(booked)
        return booked, (period if booked != period else None)

    def close(self, period: str, closed_at: datetime, event: Any) -> tuple[list[Row], datetime]:
        """Close ``period``: its statement lines (to publish) and when it closed. Closing
        a closed period changes nothing and gives the lines it closed with."""
        check_period(period)
        closed = self.periods.get(period_key(period), event)
        if closed is not None:
            return closed["lines"], datetime.fromisoformat(closed["closed_at"])
        lines = self.totals(period)
        row = {"lines": lines, "closed_at": closed_at.isoformat(), "version": 1}
        self.periods.put(period_key(period), row, event)
        return lines, closed_at

    def totals(self, period: str) -> list[Row]:
        """The period's lines as they stand (summed over partitions), sorted by province
        pair, each period's own line before the adjustments."""
        merged: dict[tuple[str, str, str], StatementLine] = {}
        for key, row in self.lines.items():
            _, line_period, insured, treatment, adjusts = json.loads(key)
            if line_period != period:
                continue
            at = (insured, treatment, adjusts or "")
            line = merged.setdefault(at, StatementLine(period, insured, treatment))
            line.merge(line_from_record(row))
        return [line_record(merged[at], at[2] or None) for at in sorted(merged)]

    def view(self, period: str) -> Row:
        """``GET /clearing/{period}``: open with its running lines, or closed with the
        lines it closed with."""
        check_period(period)
        closed = self.periods.table.get(period_key(period))
        if closed is not None:
            return {
                "period": period,
                "state": "closed",
                "closed_at": closed["closed_at"],
                "lines": closed["lines"],
            }
        return {"period": period, "state": "open", "closed_at": None, "lines": self.totals(period)}


def statement_record(line: Row, closed_at: datetime) -> Row:
    """A published line as a ``ClearingStatementLine`` record (money as Decimal)."""
    return {
        "period": line["period"],
        "insured_province": line["insured_province"],
        "treatment_province": line["treatment_province"],
        "settled": line["settled"],
        "reversed": line["reversed"],
        **{name: Decimal(line[name]) for name in (*CLEARED_AMOUNTS, "owed")},
        "adjusts": line.get("adjusts"),
        "closed_at": closed_at,
    }


def statement_line(record: Row) -> Row:
    """A decoded ``ClearingStatementLine`` in §6's JSON form (what was closed)."""
    line = {
        key: record[key]
        for key in ("period", "insured_province", "treatment_province", "settled", "reversed")
    }
    line.update({name: fmt_money(record[name]) for name in (*CLEARED_AMOUNTS, "owed")})
    if record.get("adjusts") is not None:
        line["adjusts"] = record["adjusts"]
    return line
