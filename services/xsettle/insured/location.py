"""The insured location (参保地) as a message handler: request bytes in, result bytes out.

No Kafka here: the faust app feeds it messages and a view of the person rows
(:class:`~xsettle.exchange.agent_loop.Rows`), and sends what it returns.
Each request either finds its answer already in the person's row (a redelivery:
the same bytes go out again) or is applied to a copy of the ledger, and the new row
records the ledger and the answer together.
"""

from collections.abc import Callable
from typing import Any, Protocol

from ..engine import Directory, Ledger, Result, reverse, settle
from ..exchange.codec import AvroCodec
from ..exchange.records import request_detail, result_record, utc_now
from .row import Answer, LedgerRow

SERVICE = "insured"


class PersonRows(Protocol):
    def get(self, key: bytes, event: Any) -> LedgerRow | None: ...
    def put(self, key: bytes, row: LedgerRow, event: Any) -> None: ...


class InsuredLocation:
    def __init__(
        self,
        directory: Directory,
        requests: AvroCodec,
        results: AvroCodec,
        on_redelivery: Callable[[], None] = lambda: None,
    ) -> None:
        self.directory = directory
        self.requests = requests
        self.results = results
        self.on_redelivery = on_redelivery

    def handle(self, payload: bytes, rows: PersonRows, event: Any) -> tuple[bytes, bytes]:
        """The result to publish, keyed by person; raises DecodeError for bad bytes."""
        request = self.requests.decode(payload)
        person_id, claim_id = request["person_id"], request["claim_id"]
        request_id, kind = request["request_id"], request["kind"]
        key = person_id.encode()
        row = rows.get(key, event) or LedgerRow()
        answer = row.answer_to(claim_id, request_id, kind)
        if answer is not None:
            self.on_redelivery()
            return key, answer.published
        ledger = row.working_ledger()
        duplicate_of = None
        if kind == "reverse":
            result = reverse(claim_id, ledger)
        else:
            if ledger is not None and ledger.settled(claim_id) is not None:
                duplicate_of = self._settlement_id(row, claim_id)
            result, ledger = settle(request_detail(request), self.directory, ledger)
        record = self._record(request, result, ledger, duplicate_of)
        published = self.results.encode(record)
        settled = record["status"] == "SETTLED" and duplicate_of is None
        answer = Answer(request_id, kind, record["result_id"], published, settled)
        rows.put(key, row.answered(claim_id, answer, ledger), event)
        return key, published

    @staticmethod
    def _settlement_id(row: LedgerRow, claim_id: str) -> str:
        """The id of the claim's current settlement: its latest settle that settled."""
        for answer in reversed(row.answers[claim_id]):
            if answer.kind == "settle" and answer.settled:
                return answer.result_id
        raise AssertionError(f"a settled claim has no settle answer: {claim_id}")

    def _record(
        self,
        request: dict[str, Any],
        result: Result,
        ledger: Ledger | None,
        duplicate_of: str | None,
    ) -> dict[str, Any]:
        person = self.directory.persons.get(request["person_id"])
        record = ledger.claims.get(result.claim_id or "") if ledger is not None else None
        detail = request["detail"]
        if detail is None and record is not None:
            treatment_region, medical_type = record.treatment_region, record.medical_type
        else:
            treatment_region = detail["treatment_region"] if detail else None
            medical_type = detail["medical_type"] if detail else None
        return result_record(
            result,
            request_id=request["request_id"],
            generation=record.generation if record is not None else 0,
            person_id=request["person_id"],
            insured_region=person.insured_region if person else request["insured_region"],
            treatment_region=treatment_region,
            medical_type=medical_type,
            submitted_at=request["submitted_at"],
            settled_at=utc_now(),
            duplicate_of=duplicate_of,
        )
