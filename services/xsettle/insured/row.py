"""A person's row at the insured location: their whole state and every answer given.

One table row per person holds the person's :class:`~xsettle.engine.insured.Insured`
state (registry record, filings, ledger) and the answers already given, so one
changelog record carries a change together with the record of having answered it: a
redelivered request is answered from the row (the very bytes published the first
time), never recomputed. Answers are kept per subject (claim, filing, enrolment) for
every operation on it, so the record is bounded by the person's claims and filings,
not by a count, and a replay in any order finds its answer.
"""

import base64
import copy
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from faust.serializers import codecs

from ..engine.insured import Insured
from ..engine.lifecycle_results import FilingResult
from ..engine.persons import FilingEntry
from ..engine.vocabulary import Status
from ..exchange.runtime.row_delta import RowDelta, is_delta


@dataclass(frozen=True, slots=True)
class Answer:
    """One operation applied to a claim: which request, what kind, what went out."""

    request_id: str
    kind: str
    result_id: str
    published: bytes
    """The encoded result exactly as published: what a redelivery re-emits."""
    settled: bool = False
    """Whether this answer settled the claim (a duplicate's answer names this one)."""


def subject(kind: str, event_id: str) -> str:
    """What an answer is about, in one namespace per person: claims by id (settle,
    reverse and manual share it, §5), filings and enrolments apart."""
    if kind in ("file", "cancel_filing"):
        return f"filing:{event_id}"
    if kind == "enrol":
        return "enrolment"
    return event_id


@dataclass(slots=True)
class PersonRow:
    insured: Insured | None = None
    """None until an event changes the person: ``XSETTLE_REFERENCE`` has the start."""
    answers: dict[str, tuple[Answer, ...]] = field(default_factory=dict)
    """Subject (see :func:`subject`) → the answers given for it, oldest first."""
    filed: dict[str, FilingEntry] = field(default_factory=dict)
    """Filing id → the filing as it was FILED: what a duplicate ``file`` re-emits."""
    version: int = 0
    """Raised by every write: recovery never replaces a row with an older one
    (see :class:`~xsettle.exchange.runtime.agent_loop.VersionedTable`)."""

    def answer_to(self, subject: str, request_id: str, kind: str) -> Answer | None:
        """The answer already given to this request, matched on subject, request and
        kind: a request id reused for another claim or kind is a new request."""
        for answer in self.answers.get(subject, ()):
            if answer.request_id == request_id and answer.kind == kind:
                return answer
        return None

    def earlier_filing(self, filing_id: str) -> FilingResult | None:
        """The FILED answer already given under this id (§5 check 2), as it was given."""
        entry = self.filed.get(filing_id)
        if entry is None or self.insured is None:
            return None
        return FilingResult(filing_id, Status.FILED, self.insured.person_id, entry)

    def answered(
        self, subject: str, answer: Answer, insured: Insured | None, filed: FilingEntry | None
    ) -> "PersonRow":
        """A new row: this one with ``answer`` recorded and ``insured`` as the state."""
        answers = dict(self.answers)
        answers[subject] = (*answers.get(subject, ()), answer)
        filings = self.filed if filed is None else {**self.filed, filed.filing_id: filed}
        return PersonRow(insured, answers, filings, self.version + 1)

    def working_state(self) -> Insured | None:
        """A copy of the state the engine may change: the row itself never changes.
        Records and filings are immutable and shared; the ledger is copied."""
        insured = self.insured
        if insured is None:
            return None
        return Insured(
            insured.person_id, insured.person, copy.deepcopy(insured.ledger), list(insured.filings)
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "insured": self.insured.to_dict() if self.insured is not None else None,
            "answers": {
                claim: [
                    [
                        a.request_id,
                        a.kind,
                        a.result_id,
                        base64.b64encode(a.published).decode(),
                        a.settled,
                    ]
                    for a in answers
                ]
                for claim, answers in self.answers.items()
            },
            "filed": {fid: entry.model_dump(mode="json") for fid, entry in self.filed.items()},
            "version": self.version,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "PersonRow":
        insured = state["insured"]
        return cls(
            Insured.from_dict(insured) if insured is not None else None,
            {
                claim: tuple(
                    Answer(request_id, kind, result_id, base64.b64decode(published), settled)
                    for request_id, kind, result_id, published, settled in answers
                )
                for claim, answers in state["answers"].items()
            },
            {fid: FilingEntry.model_validate(entry) for fid, entry in state["filed"].items()},
            state["version"],
        )


DELTA_MAPS = (
    ("answers",),
    ("filed",),
    ("insured", "ledger", "claims"),
    ("insured", "ledger", "years"),
)
"""The row state's maps that grow with the person's history: the changelog carries
their changed entries only (see :mod:`~xsettle.exchange.runtime.row_delta`)."""

CODEC = "xsettle-person-row"


class _RowCodec(codecs.Codec):
    """Rows in memory, JSON in the changelog (a decode per event would cost the hot
    path): a whole row, or what changed in it."""

    def _dumps(self, obj: Any) -> bytes:
        return json.dumps(obj.to_state(), separators=(",", ":")).encode()

    def _loads(self, s: bytes) -> Any:
        state = json.loads(s)
        return RowDelta.from_state(state) if is_delta(state) else PersonRow.from_state(state)


codecs.register(CODEC, _RowCodec())


class PersonRowValue:
    """The table's ``value_type``: faust takes a table's value codec from its type's
    ``_options.serializer`` and rebuilds values with ``from_data``; the codec already
    returns rows, so there is nothing left to rebuild."""

    _options = SimpleNamespace(serializer=CODEC)

    @staticmethod
    def from_data(data: Any, preferred_type: Any = None) -> Any:
        return data
