"""The treatment location's claim register: what ``/claims/{person_id}/{claim_id}`` shows."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from xsettle.exchange.runtime.tables import Rows
from xsettle.treatment.register import ClaimRegister, Entry, claim_key

AT = datetime(2025, 3, 10, 8, 30, tzinfo=UTC)


class Event:
    """Stands in for the faust event that changed a row (any weak-referenceable object)."""


EVENT = Event()


def _result(status: str, reason: str | None = None, **amounts: str) -> dict[str, Any]:
    return {
        "claim_id": "C1",
        "person_id": "P1",
        "status": status,
        "reason": reason,
        "result_id": f"r-{status}",
        "request_id": "req-1",
        "settled_at": AT,
        "amounts": {k: Decimal(v) for k, v in amounts.items()} or None,
    }


def test_a_claim_is_submitted_then_closed_and_a_late_duplicate_does_not_reopen_it() -> None:
    table: dict[bytes, Entry] = {}
    rows: Rows[Entry] = Rows(table)
    register = ClaimRegister(table)
    assert register.submitted(rows, "P1", "C1", "req-1", EVENT) is False
    assert table == {}, "staged, not written, until the batch ends"
    rows.write()
    assert register.lookup("P1", "C1") == {
        "person_id": "P1",
        "claim_id": "C1",
        "state": "SUBMITTED",
        "request_id": None,
        "result_id": None,
        "reason": None,
        "psn_cash_pay": None,
        "fund_pay_sumamt": None,
        "closed_at": None,
        "last_rejection": None,
        "in_flight": "req-1",
        "version": 1,
    }
    assert register.submitted(rows, "P1", "C1", "req-1", EVENT) is True, "a redelivery"
    rows.discard()

    register.closed(
        rows, _result("SETTLED", psn_cash_pay="1131.20", fund_pay_sumamt="1843.20"), EVENT
    )
    register.closed(rows, _result("REJECTED", reason="ALREADY_REVERSED"), EVENT)
    rows.write()
    assert list(table) == [claim_key("P1", "C1")], "one small row per claim"
    state = register.lookup("P1", "C1")
    assert state is not None and state["request_id"] == "req-1"
    assert state["in_flight"] is None
    assert (state["state"], state["psn_cash_pay"], state["fund_pay_sumamt"]) == (
        "SETTLED",
        "1131.20",
        "1843.20",
    )
    assert state["last_rejection"] == "ALREADY_REVERSED"
    assert state["closed_at"] == AT.isoformat()
    assert register.lookup("P1", "C2") is None and register.lookup("P2", "C1") is None


def test_a_rejected_claim_can_still_be_settled_later() -> None:
    table: dict[bytes, Entry] = {}
    rows: Rows[Entry] = Rows(table)
    register = ClaimRegister(table)
    register.closed(rows, _result("REJECTED", reason="NOT_FILED"), EVENT)
    rows.write()
    assert register.lookup("P1", "C1")["state"] == "REJECTED"  # type: ignore[index]
    register.closed(rows, _result("SETTLED", psn_cash_pay="10.00", fund_pay_sumamt="90.00"), EVENT)
    rows.write()
    assert register.lookup("P1", "C1")["state"] == "SETTLED"  # type: ignore[index]
