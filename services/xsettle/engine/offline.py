"""The whole exchange in one process: the offline round trip the pipeline must equal.

It wires the two sides exactly as the services do (the treatment location itemises a
claim, the insured location settles it) and applies the life-cycle events of §5, but
keeps in dicts what the services keep in tables: each person's
:class:`~xsettle.engine.insured.Insured` state, and the filing-id namespace, which
§5 makes one for all persons (so it is the one piece of state that is nobody's).
"""

from typing import Any

from .catalog import Catalog, CatalogIndex
from .claims import ManualEvent, ReverseEvent, SettleEvent
from .clearing import ClearingFacts
from .enrolment import enrol
from .events import AnyEvent, Outcome, Unreadable, read_event
from .filing import cancel_filing, file
from .insured import Insured
from .intake import normalise
from .ledger import ClaimRecord, Ledger
from .lifecycle_events import CancelFilingEvent, EnrolEvent, FileEvent
from .lifecycle_results import FilingResult
from .results import Result
from .settlement import Directory, reverse_claim, settle_direct, settle_manual
from .vocabulary import Status


class OfflineExchange:
    def __init__(self, catalogs: list[Catalog], directory: Directory) -> None:
        self.catalogs = CatalogIndex(catalogs)
        self.directory = directory
        self.insured: dict[str, Insured] = {}
        """Each person's state once an event touched it; ``directory`` has the rest."""
        self.filings: dict[str, FilingResult] = {}
        """The filing-id namespace: every FILED answer, by ``filing_id``, for all persons."""

    def process(self, raw: Any) -> Outcome:
        """One event in, one answer out; never raises for a bad event.

        :meth:`step` without the clearing facts, which nobody asked for here (skipping
        them saved ~4 µs of ~130 µs per claim)."""
        event = _read(raw)
        return event.answer if isinstance(event, Unreadable) else self._apply(event)

    def step(self, raw: Any) -> tuple[Outcome, ClearingFacts | None]:
        """:meth:`process`, and for a SETTLED or REVERSED claim what clearing needs to
        know of it (§6): the facts of its settlement, and whether it changed state."""
        event = _read(raw)
        if isinstance(event, Unreadable):
            return event.answer, None
        if not isinstance(event, SettleEvent | ReverseEvent):
            return self._apply(event), None
        before = self._claim(event.person_id, event.claim_id)
        outcome = self._apply(event)
        if outcome.status is not Status.SETTLED and outcome.status is not Status.REVERSED:
            return outcome, None
        assert isinstance(outcome, Result)
        # A duplicate re-emits the record that was there; a settlement books a new one.
        changed = self._claim(event.person_id, event.claim_id) is not before
        changed = changed or outcome.status is Status.REVERSED
        return outcome, ClearingFacts.of(outcome, self.insured[event.person_id], changed)

    def state_of(self, person_id: str) -> Insured | None:
        """The person's current state: as events left it, else as ``persons[]`` gives it."""
        insured = self.insured.get(person_id)
        return insured if insured is not None else Insured.of(self.directory.persons.get(person_id))

    def _claim(self, person_id: str, claim_id: str) -> ClaimRecord | None:
        insured = self.insured.get(person_id)
        return insured.ledger.claims.get(claim_id) if insured is not None else None

    @property
    def ledgers(self) -> dict[str, Ledger]:
        """The ledgers a ledger-only insured service holds: those of persons with a claim
        settled at some time (such a service opens a ledger with the first settlement)."""
        return {
            person_id: insured.ledger
            for person_id, insured in self.insured.items()
            if insured.ledger.claims
        }

    def _apply(self, event: AnyEvent) -> Outcome:
        policies = self.directory.policies
        insured = self.state_of(event.person_id)
        outcome: Outcome
        match event:
            case ReverseEvent():
                outcome, insured = reverse_claim(event.claim_id, insured)
            case ManualEvent():
                outcome, insured = settle_manual(event, insured, policies, self.catalogs)
            case SettleEvent():
                detail = normalise(event, self.catalogs)
                if isinstance(detail, Result):
                    return detail
                outcome, insured = settle_direct(detail, insured, policies)
            case EnrolEvent():
                outcome, insured = enrol(event, insured)
            case FileEvent():
                outcome, insured = file(event, insured, policies, self.filings.get(event.filing_id))
                if outcome.status is Status.FILED:
                    self.filings.setdefault(event.filing_id, outcome)
            case CancelFilingEvent():
                outcome, insured = cancel_filing(event, insured)
        if insured is not None:
            self.insured[event.person_id] = insured
        return outcome


def _read(raw: Any) -> AnyEvent | Unreadable:
    """The event, or the :class:`Unreadable` that answers it (returned, not raised, so
    that :meth:`OfflineExchange.process` and :meth:`~OfflineExchange.step` share it)."""
    try:
        return read_event(raw)
    except Unreadable as unreadable:
        return unreadable
