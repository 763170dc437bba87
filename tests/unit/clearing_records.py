"""Records and a Kafka-free clearing service for the clearing tests: results as the
insured location publishes them, and the treatment register that closed them."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from xsettle.clearing.location import Clearing, LineRows
from xsettle.engine.clearing import CLEARED_AMOUNTS
from xsettle.exchange.runtime.tables import Rows
from xsettle.treatment.register import ClaimRegister

CLOSED_AT = datetime(2025, 4, 2, 8, 0, tzinfo=UTC)


class Event:
    """Stands for the faust event a row is read and written under."""


EVENT = Event()


class Service:
    def __init__(self) -> None:
        self.tables: tuple[dict[bytes, Any], ...] = ({}, {}, {})
        self.rows = (Rows(self.tables[0]), LineRows(self.tables[1]), Rows(self.tables[2]))
        self.clearing = Clearing(*self.rows)

    def take(self, record: dict[str, Any], partition: int = 0) -> str:
        applied = self.clearing.take_result(record, partition, EVENT)
        self.end_batch()
        return applied.outcome

    def close(self, period: str) -> list[dict[str, Any]]:
        lines, _ = self.clearing.close(period, CLOSED_AT, EVENT)
        self.end_batch()
        return lines

    def end_batch(self) -> None:
        for rows in self.rows:
            rows.write()

    def lines(self, period: str) -> list[dict[str, Any]]:
        return self.clearing.view(period)["lines"]  # type: ignore[no-any-return]


def amounts(fund: str, acct: str = "0", cash: str = "0", sign: int = 1) -> dict[str, Decimal]:
    values = dict.fromkeys(CLEARED_AMOUNTS, Decimal("0.00"))
    values.update(
        medfee_sumamt=Decimal(fund) + Decimal(acct) + Decimal(cash),
        hifp_pay=Decimal(fund),
        fund_pay_sumamt=Decimal(fund),
        acct_pay=Decimal(acct),
        psn_cash_pay=Decimal(cash),
    )
    return {name: sign * value for name, value in values.items()}


def result(
    result_id: str,
    status: str = "SETTLED",
    *,
    claim: str = "C1",
    person: str = "P1",
    day: date | None = date(2025, 3, 14),
    fund: str = "100.00",
    acct: str = "20.00",
    route: str | None = None,
    duplicate_of: str | None = None,
) -> dict[str, Any]:
    return {
        "result_id": result_id,
        "request_id": f"r-{result_id}",
        "claim_id": claim,
        "person_id": person,
        "status": status,
        "amounts": amounts(fund, acct, "5.00", -1 if status == "REVERSED" else 1)
        if status != "REJECTED"
        else None,
        "insured_region": "320100",
        "treatment_region": "440106",
        "duplicate_of": duplicate_of,
        "route": route,
        "date": day,
    }


def register_entries(results: list[dict[str, Any]]) -> dict[tuple[str, str], list[Any]]:
    """The treatment register's entries after it closed these results."""
    table: dict[bytes, Any] = {}
    rows: Rows[Any] = Rows(table)
    register = ClaimRegister(table)
    for record in results:
        register.closed(rows, {**record, "settled_at": CLOSED_AT, "reason": None}, EVENT)
    rows.write()
    return {tuple(json.loads(key)): entry for key, entry in table.items()}  # type: ignore[misc]
