"""The treatment location's claim register: each claim's state, kept per person.

The table is keyed by person (the topics' key), so its changelog partition is the
person's partition and writes can be batched; a batch's changes are written once
per person when the batch ends.
"""

from collections.abc import MutableMapping
from typing import Any

NO_PERSON = b""
"""Where claims that named no person are kept (malformed ones)."""


class ClaimRegister:
    def __init__(self, table: MutableMapping[bytes, dict[str, Any]]) -> None:
        self.table = table
        self.pending: dict[bytes, dict[str, Any]] = {}

    def _claims(self, person: str | None) -> dict[str, Any]:
        key = person.encode() if person else NO_PERSON
        claims = self.pending.get(key)
        if claims is None:
            claims = self.pending[key] = dict(self.table.get(key) or {})
        return claims

    def lookup(self, claim_id: str) -> dict[str, Any] | None:
        """A claim's state, wherever it is (a scan: for operators, not the hot path)."""
        for claims in (*self.pending.values(), *self.table.values()):
            if claim_id in claims:
                return claims[claim_id]
        return None

    def owner(self, claim_id: str) -> str | None:
        entry = self.lookup(claim_id)
        return entry["person_id"] if entry else None

    def submitted(self, person: str, claim_id: str, request_id: str) -> None:
        entry = self._claims(person).setdefault(claim_id, {"person_id": person})
        entry.update(state=entry.get("state") or "SUBMITTED", request_id=request_id)

    def closed(self, result: dict[str, Any]) -> None:
        """Record a result: who pays what (the patient pays ``psn_cash_pay``).

        A rejected attempt on a claim that is settled or reversed (a late duplicate,
        a second reversal) is noted but does not change the claim's state.
        """
        if not result["claim_id"]:
            return
        entry = self._claims(result["person_id"]).setdefault(
            result["claim_id"], {"person_id": result["person_id"]}
        )
        entry["closed_at"] = result["settled_at"].isoformat()
        if result["status"] == "REJECTED":
            entry["last_rejection"] = result["reason"]
            if entry.get("state") in ("SETTLED", "REVERSED"):
                return
        amounts = result["amounts"] or {}
        entry.update(
            state=result["status"],
            result_id=result["result_id"],
            reason=result["reason"],
            psn_cash_pay=str(amounts["psn_cash_pay"]) if amounts else None,
            fund_pay_sumamt=str(amounts["fund_pay_sumamt"]) if amounts else None,
        )

    def flush(self) -> None:
        """Write each changed person's claims to the table (one changelog record each)."""
        for key, claims in self.pending.items():
            self.table[key] = claims
        self.pending.clear()
