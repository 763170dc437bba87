"""The treatment location's claim register: what ``/claims/{claim_id}`` shows."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from xsettle.treatment.register import ClaimRegister

AT = datetime(2025, 3, 10, 8, 30, tzinfo=UTC)


class Event:
    """Stands in for the faust event that changed a row (flush makes it current)."""


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
    table: dict[bytes, Any] = {}
    register = ClaimRegister(table)
    register.submitted("P1", "C1", "req-1")
    assert register.lookup("C1") == {
        "person_id": "P1",
        "state": "SUBMITTED",
        "request_id": "req-1",
        "result_id": None,
        "reason": None,
        "psn_cash_pay": None,
        "fund_pay_sumamt": None,
        "closed_at": None,
        "last_rejection": None,
    }
    register.flush()
    assert table == {}, "a submission is written when its result closes it"
    assert register.owner("C1") == "P1"

    register.closed(_result("SETTLED", psn_cash_pay="1131.20", fund_pay_sumamt="1843.20"), EVENT)
    register.closed(_result("REJECTED", reason="ALREADY_REVERSED"), EVENT)
    register.flush()
    assert b"P1" in table and register.in_flight == {}
    state = register.lookup("C1")
    assert state is not None and state["request_id"] == "req-1"
    assert (state["state"], state["psn_cash_pay"], state["fund_pay_sumamt"]) == (
        "SETTLED",
        "1131.20",
        "1843.20",
    )
    assert state["last_rejection"] == "ALREADY_REVERSED"
    assert state["closed_at"] == AT.isoformat()
    assert register.lookup("C2") is None and register.owner("C2") is None


def test_a_rejected_claim_can_still_be_settled_later() -> None:
    register = ClaimRegister({})
    register.closed(_result("REJECTED", reason="NOT_FILED"), EVENT)
    assert register.lookup("C1")["state"] == "REJECTED"  # type: ignore[index]
    register.closed(_result("SETTLED", psn_cash_pay="10.00", fund_pay_sumamt="90.00"), EVENT)
    assert register.lookup("C1")["state"] == "SETTLED"  # type: ignore[index]
