"""The dashboard's clearing view without Kafka: per period who owes whom, open or
closed, and the reconciliation's verdict; its lines are the clearing service's."""

import json
from datetime import date
from typing import Any

from clearing_records import CLOSED_AT, Service, register_entries, result

from xsettle.clearing.location import statement_record
from xsettle.dashboard.clearing import ClearingView, net_between_provinces
from xsettle.exchange.contract.codec import AvroCodec

STATEMENTS = AvroCodec("clearing_statement")


def _line(insured: str, treatment: str, owed: str) -> dict[str, Any]:
    return {"insured_province": insured, "treatment_province": treatment, "owed": owed}


def test_who_owes_whom_is_the_net_between_two_provinces() -> None:
    lines = [
        _line("320000", "440000", "100.10"),
        _line("440000", "320000", "30.05"),
        _line("110000", "320000", "-5.00"),  # a reversal more than settled: 320000 owes
        _line("110000", "310000", "7.00"),
        _line("110000", "310000", "3.00"),  # an adjustment line of the same pair
        _line("320000", "320000", "999.00"),  # care in one's own province: not between
    ]
    assert net_between_provinces(lines) == [
        {"debtor": "320000", "creditor": "440000", "amount": "70.05"},
        {"debtor": "110000", "creditor": "310000", "amount": "10.00"},
        {"debtor": "320000", "creditor": "110000", "amount": "5.00"},
    ]
    balanced = [_line("320000", "440000", "8.00"), _line("440000", "320000", "8.00")]
    assert net_between_provinces(balanced) == []  # neither owes the other


def _changelog(view: ClearingView, results: list[dict[str, Any]]) -> None:
    """The treatment register's entries, as its changelog carries them."""
    for (person, claim), entry in register_entries(results).items():
        key = json.dumps([person, claim], ensure_ascii=False).encode()
        view.take_register(key, json.dumps(entry).encode())


def _publish(view: ClearingView, service: Service, period: str) -> list[dict[str, Any]]:
    """Close ``period`` in the service; the view reads its lines off the statement topic."""
    lines = service.close(period)
    for line in lines:
        view.take_statement(STATEMENTS.decode(STATEMENTS.encode(statement_record(line, CLOSED_AT))))
    return lines


def test_an_open_period_shows_the_service_s_running_lines_and_a_clean_reconciliation() -> None:
    results = [
        result("a"),
        result("b", claim="C2", person="P2", fund="70.00"),
        result("rb", "REVERSED", claim="C2", person="P2", fund="70.00", day=None),
        result("dup", claim="C2", person="P2", duplicate_of="b"),
        result("m", claim="C3", route="manual"),
        result("x", claim="C4", day=date(2025, 4, 1)),
    ]
    view, service = ClearingView(), Service()
    for record in results:
        view.take_result(record)
        service.take(record)
    _changelog(view, results)
    march, april = view.snapshot()
    assert march["lines"] == service.lines("2025-03")
    assert (march["state"], march["closed_at"], march["owed"]) == ("open", None, "120.00")
    assert march["net"] == [{"debtor": "320000", "creditor": "440000", "amount": "120.00"}]
    assert march["reconciliation"] == {
        "agree": True,
        "province_pairs": 1,
        "pairs_disagreeing": 0,
        "differences": {},
    }
    assert april["period"] == "2025-04" and april["lines"] == service.lines("2025-04")


def test_a_payout_missing_at_the_treatment_location_is_a_difference() -> None:
    results = [result("a"), result("c", claim="C2", person="P2")]
    view = ClearingView()
    for record in results:
        view.take_result(record)
    _changelog(view, results[:1])
    [march] = view.snapshot()
    assert march["reconciliation"] == {
        "agree": False,
        "province_pairs": 1,
        "pairs_disagreeing": 1,
        "differences": {"only at the insured location": 1},
    }
    # The treatment location closes the claim: the view is computed again, and agrees.
    _changelog(view, results)
    assert view.snapshot()[0]["reconciliation"]["agree"]


def test_a_closed_period_shows_its_statement_and_a_late_reversal_as_the_next_s_adjustment() -> None:
    view, service = ClearingView(), Service()
    early = [result("a"), result("b", claim="C2", person="P2")]
    for record in early:
        view.take_result(record)
        service.take(record)
    closed = _publish(view, service, "2025-03")
    late = [result("r", "REVERSED", claim="C2", person="P2"), result("l", claim="C3")]
    for record in late:
        view.take_result(record)
        service.take(record)
    _changelog(view, early + late)
    march, april = view.snapshot()
    assert (march["state"], march["closed_at"]) == ("closed", CLOSED_AT.isoformat())
    assert march["lines"] == closed  # as it closed, though its results have changed since
    assert march["reconciliation"]["agree"]  # both sides: all of March's results
    assert april["state"] == "open" and april["lines"] == service.lines("2025-04")
    assert [line["adjusts"] for line in april["lines"]] == ["2025-03"]
    # April closed with the adjustment, May open: nothing of March is left to book.
    _publish(view, service, "2025-04")
    assert [(p["period"], p["state"]) for p in view.snapshot()] == [
        ("2025-03", "closed"),
        ("2025-04", "closed"),
    ]
    view.take_result(result("l2", claim="C4", day=date(2025, 3, 2)))
    service.take(result("l2", claim="C4", day=date(2025, 3, 2)))
    may = view.snapshot()[2]
    assert may["period"] == "2025-05" and may["lines"] == service.lines("2025-05")
