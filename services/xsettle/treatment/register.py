"""The treatment location's claim register: each claim's state, one row per claim.

Rows are keyed by (person, claim), the settlement's idempotency key, so lookups and
writes touch one small row (no scans, no row that grows with a person's history).
A row's changelog record goes to the partition of the message that wrote it, which
is its person's partition (claims and results are keyed by person), so with several
treatment workers each holds its own persons' claims, and ``/claims/{person}/{claim}``
is routed to the worker that holds the row.

A forwarded claim is written at once (``SUBMITTED``, or its ``in_flight`` request on a
claim that already has a state), so a restarted worker still knows what is awaiting
an answer. Entries are positional (:data:`FIELDS`): the row's size is the changelog's cost.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..engine.clearing import CLEARED_AMOUNTS
from ..exchange.runtime.tables import Rows

FIELDS = (
    "state",
    "request_id",
    "result_id",
    "reason",
    "psn_cash_pay",
    "fund_pay_sumamt",
    "closed_at",
    "last_rejection",
    "in_flight",
    "version",
)
"""A claim's entry, by position: ``closed_at`` in epoch milliseconds; ``in_flight`` the
request forwarded and not yet answered; ``version`` raised by every write (recovery never
takes an entry back to an older one).

An entry whose claim was paid out (a direct settlement, a reversal) has one more
element, ``PAID``: every payout and refund in order, each :func:`payout` of its result,
which is what the reconciliation (``xsettle reconcile``) reads from the changelog."""
STATE, REQUEST, RESULT, REASON, CASH, FUND, CLOSED, LAST_REJECTION, IN_FLIGHT, VERSION = range(
    len(FIELDS)
)

PAID = len(FIELDS)
PAYOUT = ("result_id", "status", "date", "insured_region", "treatment_region", "route", "amounts")
"""A payout, by position; ``amounts`` in :data:`~xsettle.engine.clearing.CLEARED_AMOUNTS` order."""

Entry = list[Any]


def entry_version(entry: Entry) -> int:
    return entry[VERSION]  # type: ignore[no-any-return]


def claim_key(person_id: str, claim_id: str) -> bytes:
    """The row key: unambiguous whatever characters the ids hold."""
    return json.dumps([person_id, claim_id], ensure_ascii=False).encode()


class ClaimRegister:
    """Changes are staged in the calling agent's :class:`Rows`; reads for operators
    go to the table."""

    def __init__(self, table: Mapping[bytes, Entry]) -> None:
        self.table = table

    @staticmethod
    def _entry(rows: Rows[Entry], key: bytes, event: Any) -> Entry:
        """A copy of the claim's entry to change and stage (rows are never changed in place)."""
        current = rows.get(key, event)
        entry = list(current) if current is not None else [None] * (len(FIELDS) - 1) + [0]
        entry[VERSION] += 1
        return entry

    def submitted(
        self, rows: Rows[Entry], person_id: str, claim_id: str, request_id: str, event: Any
    ) -> bool:
        """Note a forwarded request; whether this very request was forwarded before
        (a redelivered claim: the insured location will answer it from its record)."""
        key = claim_key(person_id, claim_id)
        entry = self._entry(rows, key, event)
        seen = request_id in (entry[IN_FLIGHT], entry[REQUEST])
        if entry[STATE] is None:
            entry[STATE] = "SUBMITTED"
        if entry[REQUEST] != request_id:
            entry[IN_FLIGHT] = request_id
        rows.put(key, entry, event)
        return seen

    def closed(self, rows: Rows[Entry], result: dict[str, Any], event: Any) -> None:
        """Record a result: who pays what (the patient pays ``psn_cash_pay``).

        A rejected attempt on a claim that is settled or reversed (a late duplicate,
        a second reversal) is noted but does not change the claim's state. Results
        that name no person or claim (malformed claims) have no register entry.
        """
        person_id, claim_id = result["person_id"], result["claim_id"]
        if not person_id or not claim_id:
            return
        key = claim_key(person_id, claim_id)
        entry = self._entry(rows, key, event)
        if entry[IN_FLIGHT] == result["request_id"]:
            entry[IN_FLIGHT] = None
        entry[CLOSED] = int(result["settled_at"].timestamp() * 1000)
        entry[REQUEST] = result["request_id"]
        if result["status"] == "REJECTED":
            entry[LAST_REJECTION] = result["reason"]
        if result["status"] != "REJECTED" or entry[STATE] not in ("SETTLED", "REVERSED"):
            amounts = result["amounts"]
            entry[STATE] = result["status"]
            entry[RESULT] = result["result_id"]
            entry[REASON] = result["reason"]
            entry[CASH] = str(amounts["psn_cash_pay"]) if amounts else None
            entry[FUND] = str(amounts["fund_pay_sumamt"]) if amounts else None
        paid = entry[PAID] if len(entry) > PAID else []
        if _paid_out(result) and all(earlier[0] != result["result_id"] for earlier in paid):
            entry[PAID:] = [[*paid, payout(result)]]
        rows.put(key, entry, event)

    def lookup(self, person_id: str, claim_id: str) -> dict[str, Any] | None:
        """A claim's state as operators read it at ``/claims/{person_id}/{claim_id}``."""
        entry = self.table.get(claim_key(person_id, claim_id))
        if entry is None:
            return None
        state = dict(zip(FIELDS, entry[:PAID], strict=True))
        if state["closed_at"] is not None:
            state["closed_at"] = datetime.fromtimestamp(state["closed_at"] / 1000, UTC).isoformat()
        return {"person_id": person_id, "claim_id": claim_id, **state}


def _paid_out(result: dict[str, Any]) -> bool:
    """A settlement or reversal that moved money (a re-emitted duplicate moved none)."""
    return (
        result["status"] in ("SETTLED", "REVERSED")
        and result["amounts"] is not None
        and not result.get("duplicate_of")
    )


def payout(result: dict[str, Any]) -> list[Any]:
    """What the location paid (or took back) on a result, as :data:`PAYOUT`."""
    day = result.get("date")
    amounts = result["amounts"]
    return [
        result["result_id"],
        result["status"],
        day.isoformat() if day is not None else None,
        result.get("insured_region"),
        result.get("treatment_region"),
        result.get("route"),
        [str(amounts[name]) if name in amounts else None for name in CLEARED_AMOUNTS],
    ]
