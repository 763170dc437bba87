"""A person's row at the insured location: their ledger and every answer already given.

One table row per person holds both, so one changelog record carries a settlement
together with the record of having answered it: a redelivered request is answered
from the row (the very bytes published the first time), never recomputed. Answers
are kept per claim, for every operation on it, so the record is bounded by the
person's claims, not by a count, and a replay in any order finds its answer.
"""

import base64
import copy
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from faust.serializers import codecs

from ..engine import Ledger


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


@dataclass(slots=True)
class LedgerRow:
    ledger: Ledger | None = None
    answers: dict[str, tuple[Answer, ...]] = field(default_factory=dict)
    """Claim id → the answers given for it, oldest first."""
    version: int = 0
    """Raised by every write: recovery never replaces a row with an older one
    (see :class:`~xsettle.exchange.agent_loop.VersionedTable`)."""

    def answer_to(self, claim_id: str, request_id: str, kind: str) -> Answer | None:
        """The answer already given to this request, matched on claim, request and kind:
        a request id reused for another claim or kind is a new request."""
        for answer in self.answers.get(claim_id, ()):
            if answer.request_id == request_id and answer.kind == kind:
                return answer
        return None

    def answered(self, claim_id: str, answer: Answer, ledger: Ledger | None) -> "LedgerRow":
        """A new row: this one with ``answer`` recorded and ``ledger`` as the ledger."""
        answers = dict(self.answers)
        answers[claim_id] = (*answers.get(claim_id, ()), answer)
        return LedgerRow(ledger, answers, self.version + 1)

    def working_ledger(self) -> Ledger | None:
        """A copy of the ledger the engine may change: the row itself never changes."""
        return copy.deepcopy(self.ledger)

    def to_state(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger.to_dict() if self.ledger is not None else None,
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
            "version": self.version,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "LedgerRow":
        ledger = state["ledger"]
        return cls(
            Ledger.from_dict(ledger) if ledger is not None else None,
            {
                claim: tuple(
                    Answer(request_id, kind, result_id, base64.b64decode(published), settled)
                    for request_id, kind, result_id, published, settled in answers
                )
                for claim, answers in state["answers"].items()
            },
            state["version"],
        )


CODEC = "xsettle-ledger-row"


class _RowCodec(codecs.Codec):
    """Rows in memory, JSON in the changelog (a decode per event would cost the hot path)."""

    def _dumps(self, obj: Any) -> bytes:
        return json.dumps(obj.to_state(), separators=(",", ":")).encode()

    def _loads(self, s: bytes) -> Any:
        return LedgerRow.from_state(json.loads(s))


codecs.register(CODEC, _RowCodec())


class LedgerRowValue:
    """The table's ``value_type``: faust takes a table's value codec from its type's
    ``_options.serializer`` and rebuilds values with ``from_data``; the codec already
    returns rows, so there is nothing left to rebuild."""

    _options = SimpleNamespace(serializer=CODEC)

    @staticmethod
    def from_data(data: Any, preferred_type: Any = None) -> Any:
        return data
