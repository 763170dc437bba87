"""The treatment location's claim register: each claim's state, kept per person.

The table is keyed by person (the topics' key), so its changelog partition is the
person's partition and writes can be batched; a batch's changes are written once
per person when the batch ends. A person's row holds all their claims and is
rewritten whenever one changes, so each claim is kept positionally (:data:`FIELDS`)
rather than as a named object: the row's size is the changelog's cost.

A claim is written when its result closes it, not when it is forwarded: the result
always comes (it is the insured location's answer, redelivered if need be), so the
submission is kept in memory until then, which halves the register's writes.
"""

from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

from ..exchange.faust_app import as_current

NO_PERSON = b""
"""Where claims that named no person are kept (malformed ones)."""

FIELDS = (
    "state",
    "request_id",
    "result_id",
    "reason",
    "psn_cash_pay",
    "fund_pay_sumamt",
    "closed_at",
    "last_rejection",
)
"""A claim's entry, by position: ``closed_at`` in epoch milliseconds."""
STATE, REQUEST, RESULT, REASON, CASH, FUND, CLOSED, LAST_REJECTION = range(len(FIELDS))

Row = dict[str, list[Any]]
"""A person's claims: claim id → entry."""


class ClaimRegister:
    def __init__(self, table: MutableMapping[bytes, Row]) -> None:
        self.table = table
        self.pending: dict[bytes, Row] = {}
        self.events: dict[bytes, Any] = {}
        """The latest event that changed each pending row (see :func:`as_current`)."""
        self.in_flight: dict[str, tuple[bytes, str]] = {}
        """Claims forwarded and not yet answered: claim id → (person, request id)."""

    def _claims(self, person: str | None, event: Any) -> Row:
        key = person.encode() if person else NO_PERSON
        self.events[key] = event
        claims = self.pending.get(key)
        if claims is None:
            claims = self.pending[key] = dict(self.table.get(key) or {})
        return claims

    def _entry(self, person: str | None, claim_id: str, event: Any) -> list[Any]:
        return self._claims(person, event).setdefault(claim_id, [None] * len(FIELDS))

    def _find(self, claim_id: str) -> Iterator[tuple[bytes, list[Any]]]:
        """Where the claim is, newest first (a scan: for operators, not the hot path)."""
        for rows in (self.pending, self.table):
            for person, claims in rows.items():
                if claim_id in claims:
                    yield person, claims[claim_id]
        if claim_id in self.in_flight:
            person, request_id = self.in_flight[claim_id]
            entry: list[Any] = [None] * len(FIELDS)
            entry[STATE], entry[REQUEST] = "SUBMITTED", request_id
            yield person, entry

    def lookup(self, claim_id: str) -> dict[str, Any] | None:
        """A claim's state as operators read it at ``/claims/{claim_id}``."""
        person, entry = next(self._find(claim_id), (None, None))
        if entry is None:
            return None
        state = dict(zip(FIELDS, entry, strict=True))
        if state["closed_at"] is not None:
            state["closed_at"] = datetime.fromtimestamp(state["closed_at"] / 1000, UTC).isoformat()
        return {"person_id": person.decode() if person else None, **state}

    def owner(self, claim_id: str) -> str | None:
        person, _ = next(self._find(claim_id), (None, None))
        return person.decode() if person else None

    def submitted(self, person: str, claim_id: str, request_id: str) -> None:
        self.in_flight[claim_id] = (person.encode(), request_id)

    def closed(self, result: dict[str, Any], event: Any) -> None:
        """Record a result: who pays what (the patient pays ``psn_cash_pay``).

        A rejected attempt on a claim that is settled or reversed (a late duplicate,
        a second reversal) is noted but does not change the claim's state.
        """
        if not result["claim_id"]:
            return
        self.in_flight.pop(result["claim_id"], None)
        entry = self._entry(result["person_id"], result["claim_id"], event)
        entry[CLOSED] = int(result["settled_at"].timestamp() * 1000)
        entry[REQUEST] = result["request_id"]
        if result["status"] == "REJECTED":
            entry[LAST_REJECTION] = result["reason"]
            if entry[STATE] in ("SETTLED", "REVERSED"):
                return
        amounts = result["amounts"]
        entry[STATE] = result["status"]
        entry[RESULT] = result["result_id"]
        entry[REASON] = result["reason"]
        entry[CASH] = str(amounts["psn_cash_pay"]) if amounts else None
        entry[FUND] = str(amounts["fund_pay_sumamt"]) if amounts else None

    def flush(self) -> None:
        """Write each changed person's claims to the table (one changelog record each)."""
        for key, claims in self.pending.items():
            with as_current(self.events[key]):
                self.table[key] = claims
        self.pending.clear()
        self.events.clear()
