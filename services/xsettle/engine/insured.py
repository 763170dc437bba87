"""A person's whole mutable state at the insured location (参保地), as one object.

The registry record, the filings (with the ids they were filed under) and the yearly
ledger (with the account balance) change together, event by event, so they live
together: the insured service keeps one table row per person, and the engine's
functions take this object and hand it back changed. Nothing here is shared between
persons; the one exception of §5, the filing-id namespace, is the caller's (see
:mod:`xsettle.engine.filing`).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .ledger import Ledger
from .persons import Filing, FilingEntry, Person, Registration, filed_for, valid_filing


@dataclass(slots=True)
class Insured:
    person_id: str
    person: Registration | None
    """The registry record; ``None`` only for a ledger whose person is unknown."""
    ledger: Ledger
    filings: list[Filing] = field(default_factory=list)
    """In filing order (§3 check 8 takes the first valid one): those of ``persons[]``
    as given, then those filed since as :class:`FilingEntry`, with their ids."""

    @classmethod
    def of(cls, person: Person | None, ledger: Ledger | None = None) -> "Insured | None":
        """The state of a ``persons[]`` entry (its starting state), or around a ledger kept
        without one; ``None`` when there is neither."""
        if person is None:
            return None if ledger is None else cls(ledger.person_id, None, ledger)
        return cls(
            person.person_id,
            person.registration,
            ledger or Ledger(person.person_id, person.account_balance),
            list(person.filings),  # immutable: shared, not copied
        )

    @property
    def balance(self) -> Decimal:
        return self.ledger.balance

    def filing_for(self, treatment_region: str, day: date) -> Filing | None:
        return valid_filing(self.filings, treatment_region, day)

    def filed_for(self, treatment_region: str) -> bool:
        return filed_for(self.filings, treatment_region)

    def filed(self, filing_id: str) -> int | None:
        """The position of the filing filed under this id, if any."""
        for index, filing in enumerate(self.filings):
            if isinstance(filing, FilingEntry) and filing.filing_id == filing_id:
                return index
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the table row's form."""
        return {
            "person_id": self.person_id,
            "person": self.person.model_dump(mode="json") if self.person else None,
            "filings": [filing.model_dump(mode="json") for filing in self.filings],
            "ledger": self.ledger.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Insured":
        person = data["person"]
        return cls(
            person_id=data["person_id"],
            person=Registration.model_validate(person) if person is not None else None,
            ledger=Ledger.from_dict(data["ledger"]),
            filings=[
                FilingEntry.model_validate(filing) if "filing_id" in filing else Filing(**filing)
                for filing in data["filings"]
            ],
        )
