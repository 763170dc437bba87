"""The whole round trip in one process: the offline exchange the pipeline must equal.

It wires the two sides exactly as the services do (normalise at the treatment
location, settle at the insured location) but keeps the ledgers in a dict.
"""

from typing import Any

from .catalog import Catalog, CatalogIndex
from .claims import InvalidClaim, ReverseEvent, parse_event
from .intake import normalise
from .ledger import Ledger
from .results import Result, rejected
from .settlement import Directory, reverse, settle
from .vocabulary import Reason


class Exchange:
    def __init__(self, catalogs: list[Catalog], directory: Directory) -> None:
        self.catalogs = CatalogIndex(catalogs)
        self.directory = directory
        self.ledgers: dict[str, Ledger] = {}

    def process(self, raw: Any) -> Result:
        """One event in, one result out; never raises for a bad event."""
        try:
            event = parse_event(raw)
        except InvalidClaim as invalid:
            return rejected(invalid.claim_id, Reason.INVALID_CLAIM, invalid.message)
        if isinstance(event, ReverseEvent):
            return reverse(event.claim_id, self.ledgers.get(event.person_id))
        detail = normalise(event, self.catalogs)
        if isinstance(detail, Result):
            return detail
        result, ledger = settle(detail, self.directory, self.ledgers.get(event.person_id))
        if ledger is not None:
            self.ledgers[event.person_id] = ledger
        return result
