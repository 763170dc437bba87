"""The insured location (参保地) as a message handler: request bytes in, result out.

No Kafka here: the faust app feeds it messages and the person's ledger and stores
what it returns, so the same code is exercised by unit tests and the pipeline.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine import Directory, Ledger, Result, reverse, settle
from ..exchange.codec import AvroCodec, DecodeError
from ..exchange.deadletter import Origin, dead_letter
from ..exchange.records import request_detail, result_record

SERVICE = "insured"


@dataclass(frozen=True, slots=True)
class Settled:
    """A request answered: the result to publish and the person's ledger to store."""

    person_id: str
    result: dict[str, Any]
    ledger: Ledger | None


@dataclass(frozen=True, slots=True)
class Undecodable:
    dead_letter: dict[str, Any]


class InsuredLocation:
    def __init__(self, directory: Directory, requests: AvroCodec) -> None:
        self.directory = directory
        self.requests = requests

    def handle(
        self, payload: bytes, origin: Origin, ledger_of: Callable[[str], Ledger | None]
    ) -> Settled | Undecodable:
        try:
            request = self.requests.decode(payload)
        except DecodeError as error:
            return Undecodable(dead_letter(origin, payload, str(error), SERVICE))
        person_id = request["person_id"]
        ledger = ledger_of(person_id)
        request_id = request["request_id"]
        replay = ledger.replies.get(request_id) if ledger is not None else None
        if replay is not None:
            result = replay
        elif request["kind"] == "reverse":
            result = reverse(request["claim_id"], ledger)
        else:
            result, ledger = settle(request_detail(request), self.directory, ledger)
        if ledger is not None and replay is None:
            ledger.remember(request_id, result)
        return Settled(person_id, self._record(request, result, ledger), ledger)

    def _record(
        self, request: dict[str, Any], result: Result, ledger: Ledger | None
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
        )
