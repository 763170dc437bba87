"""The insured location's ledger table, written once per person per batch.

Within a batch, a person's ledger is taken from the batch's own changes first: a
ledger opened by the batch's first claim is not in the table until the flush.
"""

from collections.abc import MutableMapping
from typing import Any

from ..engine import Ledger
from ..exchange.faust_app import as_current


class LedgerBook:
    def __init__(self, table: MutableMapping[bytes, Ledger]) -> None:
        self.table = table
        self.changed: dict[bytes, tuple[Ledger, Any]] = {}

    def get(self, person_id: str) -> Ledger | None:
        key = person_id.encode()
        changed = self.changed.get(key)
        return changed[0] if changed is not None else self.table.get(key)

    def put(self, person_id: str, ledger: Ledger, event: Any) -> None:
        """Note a changed ledger and the event that changed it (see :func:`as_current`)."""
        self.changed[person_id.encode()] = (ledger, event)

    def flush(self) -> None:
        """One changelog record per changed person; the batch is acked only after this."""
        for key, (ledger, event) in self.changed.items():
            with as_current(event):
                self.table[key] = ledger
        self.changed.clear()
