"""The insured location's ledger table, written once per person per batch.

Within a batch, a person's ledger is taken from the batch's own changes first: a
ledger opened by the batch's first claim is not in the table until the flush.
"""

from collections.abc import MutableMapping

from ..engine import Ledger


class LedgerBook:
    def __init__(self, table: MutableMapping[bytes, Ledger]) -> None:
        self.table = table
        self.changed: dict[bytes, Ledger] = {}

    def get(self, person_id: str) -> Ledger | None:
        key = person_id.encode()
        return self.changed.get(key) or self.table.get(key)

    def put(self, person_id: str, ledger: Ledger) -> None:
        self.changed[person_id.encode()] = ledger

    def flush(self) -> None:
        """One changelog record per changed person; the batch is acked only after this."""
        for key, ledger in self.changed.items():
            self.table[key] = ledger
        self.changed.clear()
