"""The insured location (参保地) as a message handler: event bytes in, answer bytes out.

No Kafka here: the faust app feeds it messages and a view of the person rows
(:class:`~xsettle.exchange.runtime.agent_loop.Rows`), and sends what it returns. It takes
settlement requests from the treatment location and the insured side's own events
(enrol, file, cancel_filing, manual). Each either finds its answer already in the
person's row (a redelivery: the same bytes go out again) or is applied to a copy of
the person's state, and the new row records the state and the answer together.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ..engine import CatalogIndex, Directory, Result
from ..engine.claims import ManualEvent, ReverseEvent, SettleEvent
from ..engine.enrolment import enrol
from ..engine.events import AnyEvent, Outcome, Unreadable, read_event
from ..engine.filing import cancel_filing, file
from ..engine.insured import Insured
from ..engine.lifecycle_events import CancelFilingEvent, EnrolEvent, FileEvent
from ..engine.lifecycle_results import (
    EnrolResult,
    FilingResult,
    enrolment_rejected,
    filing_rejected,
)
from ..engine.results import rejected
from ..engine.settlement import reverse_claim, settle_direct, settle_manual
from ..engine.vocabulary import Reason, Status
from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.deadletter import Origin
from ..exchange.contract.inbound import (
    decode_event,
    key_problem,
    partition_problem,
    person_of,
    request_id_of,
)
from ..exchange.contract.records import (
    person_event_to_event,
    registry_result_record,
    request_detail,
    result_record,
    utc_now,
)
from .row import Answer, PersonRow, subject

SERVICE = "insured"


class PersonRows(Protocol):
    def get(self, key: bytes, event: Any) -> PersonRow | None: ...
    def put(self, key: bytes, row: PersonRow, event: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer to publish: on the settlement results (claims, manual) or the registry
    results (enrol, file, cancel_filing), keyed by person."""

    registry: bool
    key: bytes | None
    value: bytes


class InsuredLocation:
    def __init__(
        self,
        directory: Directory,
        catalogs: CatalogIndex,
        codecs: dict[str, AvroCodec],
        on_redelivery: Callable[[], None] = lambda: None,
        partitions: int = 8,
    ) -> None:
        """``codecs``: ``settlement_request``, ``person_event``, ``settlement_result``
        and ``registry_result``; ``partitions``: of the topics (to check where a person's
        event was produced)."""
        self.partitions = partitions
        self.directory = directory
        self.catalogs = catalogs
        self.codecs = codecs
        self.on_redelivery = on_redelivery

    def handle_request(self, payload: bytes, rows: PersonRows, event: Any) -> Reply:
        """A settle or reverse from the treatment location; raises DecodeError for bad bytes."""
        request = self.codecs["settlement_request"].decode(payload)
        person_id, claim_id, kind = request["person_id"], request["claim_id"], request["kind"]
        key = person_id.encode()
        row = rows.get(key, event) or PersonRow()
        if replay := self._replay(row, subject(kind, claim_id), request["request_id"], kind):
            return replay
        insured = self._state(row, person_id)
        duplicate_of = self._duplicate_of(row, insured, claim_id) if kind == "settle" else None
        if kind == "reverse":
            result, insured = reverse_claim(claim_id, insured)
        else:
            result, insured = settle_direct(
                request_detail(request), insured, self.directory.policies
            )
        record = self._settlement(
            result,
            insured,
            request_id=request["request_id"],
            person_id=person_id,
            detail=request["detail"],
            submitted_at=request["submitted_at"],
            duplicate_of=duplicate_of,
        )
        return self._answer(rows, event, key, row, kind, claim_id, record, insured, None)

    def handle_person_event(
        self, payload: bytes, origin: Origin, received: datetime, rows: PersonRows, event: Any
    ) -> Reply:
        """An enrol, file, cancel_filing or manual from the insured side; raises
        DecodeError for bytes that are neither a ``PersonEvent`` nor JSON."""
        raw = decode_event(payload, self.codecs["person_event"], person_event_to_event)
        request_id = request_id_of(raw, origin)
        try:
            parsed = _read_person_event(raw)
            problem = key_problem(origin.key, parsed.person_id)
            if problem is None and origin.key is not None:
                problem = partition_problem(origin.key, origin.partition, self.partitions)
            if problem is not None:
                raise Unreadable(_rejection(parsed, problem))
        except Unreadable as unreadable:
            # Malformed: answered from the message alone, the same on any redelivery.
            return self._stateless(unreadable.answer, raw, person_of(raw), request_id, received)
        key = parsed.person_id.encode()
        row = rows.get(key, event) or PersonRow()
        kind = parsed.kind
        about = subject(kind, _event_id(parsed))
        if replay := self._replay(row, about, request_id, kind):
            return replay
        insured = self._state(row, parsed.person_id)
        filed = None
        outcome: Outcome
        record: dict[str, Any]
        match parsed:
            case ManualEvent():
                duplicate_of = self._duplicate_of(row, insured, parsed.claim_id)
                outcome, insured = settle_manual(
                    parsed, insured, self.directory.policies, self.catalogs
                )
                record = self._settlement(
                    outcome,
                    insured,
                    request_id=request_id,
                    person_id=parsed.person_id,
                    detail={
                        "treatment_region": parsed.treatment_region,
                        "medical_type": parsed.medical_type,
                    },
                    submitted_at=received,
                    duplicate_of=duplicate_of,
                )
            case EnrolEvent():
                outcome, insured = enrol(parsed, insured)
            case FileEvent():
                earlier = row.earlier_filing(parsed.filing_id)
                outcome, insured = file(parsed, insured, self.directory.policies, earlier)
                if earlier is None and outcome.status is Status.FILED:
                    filed = outcome.filing  # type: ignore[union-attr]
            case CancelFilingEvent():
                outcome, insured = cancel_filing(parsed, insured)
        if not isinstance(parsed, ManualEvent):
            assert isinstance(outcome, EnrolResult | FilingResult)
            record = registry_result_record(
                outcome,
                kind=kind,
                person_id=parsed.person_id,
                request_id=request_id,
                submitted_at=received,
                settled_at=utc_now(),
            )
        return self._answer(rows, event, key, row, kind, about, record, insured, filed)

    def _replay(self, row: PersonRow, about: str, request_id: str, kind: str) -> Reply | None:
        answer = row.answer_to(about, request_id, kind)
        if answer is None:
            return None
        self.on_redelivery()
        return Reply(kind in _REGISTRY_KINDS, answer_key(row), answer.published)

    def _state(self, row: PersonRow, person_id: str) -> Insured | None:
        """A copy of the person's state to change: the row's, else the reference's."""
        if row.insured is not None:
            return row.working_state()
        return Insured.of(self.directory.persons.get(person_id))

    @staticmethod
    def _duplicate_of(row: PersonRow, insured: Insured | None, claim_id: str) -> str | None:
        """If the claim is settled, the id of its current settlement (which a settle or
        manual re-emits, §3 check 3)."""
        if insured is None or insured.ledger.settled(claim_id) is None:
            return None
        for answer in reversed(row.answers.get(claim_id, ())):
            if answer.settled:
                return answer.result_id
        raise AssertionError(f"a settled claim has no settling answer: {claim_id}")

    def _settlement(
        self,
        result: Result,
        insured: Insured | None,
        *,
        request_id: str,
        person_id: str,
        detail: dict[str, Any] | None,
        submitted_at: datetime | None,
        duplicate_of: str | None,
    ) -> dict[str, Any]:
        claim = insured.ledger.claims.get(result.claim_id or "") if insured else None
        if detail is None and claim is not None:
            treatment_region, medical_type = claim.treatment_region, claim.medical_type
        else:
            treatment_region = detail["treatment_region"] if detail else None
            medical_type = detail["medical_type"] if detail else None
        person = insured.person if insured is not None else None
        return result_record(
            result,
            request_id=request_id,
            generation=claim.generation if claim is not None else 0,
            person_id=person_id,
            insured_region=person.insured_region if person else None,
            treatment_region=treatment_region,
            medical_type=medical_type,
            submitted_at=submitted_at,
            settled_at=utc_now(),
            duplicate_of=duplicate_of,
            claim_date=claim.date if claim is not None else None,
        )

    def _answer(
        self,
        rows: PersonRows,
        event: Any,
        key: bytes,
        row: PersonRow,
        kind: str,
        about: str,
        record: dict[str, Any],
        insured: Insured | None,
        filed: Any,
    ) -> Reply:
        registry = kind in _REGISTRY_KINDS
        published = self.codecs["registry_result" if registry else "settlement_result"].encode(
            record
        )
        settled = not registry and record["status"] == "SETTLED" and not record["duplicate_of"]
        answer = Answer(record["request_id"], kind, record["result_id"], published, settled)
        rows.put(key, row.answered(about, answer, insured, filed), event)
        return Reply(registry, key, published)

    def _stateless(
        self, answer: Outcome, raw: Any, person: str | None, request_id: str, received: datetime
    ) -> Reply:
        key = person.encode() if person else None
        if isinstance(answer, EnrolResult | FilingResult):
            kind = raw.get("kind") if isinstance(raw, dict) else "file"
            record = registry_result_record(
                answer,
                kind=kind if kind in _REGISTRY_KINDS else "file",
                person_id=person,
                request_id=request_id,
                submitted_at=received,
                settled_at=received,
            )
            return Reply(True, key, self.codecs["registry_result"].encode(record))
        record = result_record(
            answer,
            request_id=request_id,
            person_id=person,
            insured_region=None,
            submitted_at=received,
        )
        return Reply(False, key, self.codecs["settlement_result"].encode(record))


_REGISTRY_KINDS = ("enrol", "file", "cancel_filing")


def answer_key(row: PersonRow) -> bytes | None:
    return row.insured.person_id.encode() if row.insured is not None else None


def _read_person_event(raw: Any) -> AnyEvent:
    """Any event of §5's insured-side kinds; a claim kind here is misrouted."""
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if kind in ("settle", "reverse"):
        claim_id = raw.get("claim_id")
        raise Unreadable(
            rejected(
                claim_id if isinstance(claim_id, str) and claim_id else None,
                Reason.INVALID_CLAIM,
                f"kind: {kind} goes to the claims topic, not the person-event topic",
            )
        )
    return read_event(raw)


def _rejection(event: AnyEvent, problem: str) -> Outcome:
    match event:
        case EnrolEvent():
            return enrolment_rejected(event.person_id, problem)
        case FileEvent() | CancelFilingEvent():
            return filing_rejected(event.filing_id, Reason.FILING_INVALID, problem)
        case SettleEvent() | ReverseEvent():
            return rejected(event.claim_id, Reason.INVALID_CLAIM, problem)
    raise AssertionError(f"unknown event {type(event).__name__}")


def _event_id(event: AnyEvent) -> str:
    match event:
        case FileEvent() | CancelFilingEvent():
            return event.filing_id
        case SettleEvent() | ReverseEvent():
            return event.claim_id
    return event.person_id
