"""The services' message handlers without Kafka: bytes in, results out, rows staged."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from xsettle.engine import CatalogIndex, parse_event
from xsettle.exchange.contract.codec import AvroCodec, DecodeError
from xsettle.exchange.contract.deadletter import Origin
from xsettle.exchange.contract.inbound import person_partition
from xsettle.exchange.contract.records import ITEMISED, event_to_claim
from xsettle.exchange.runtime.tables import Rows
from xsettle.insured.location import InsuredLocation
from xsettle.insured.row import PersonRow
from xsettle.scenario import Scenario, load_scenario
from xsettle.treatment.location import Answer, Forward, TreatmentLocation

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract"
ORIGIN = Origin("xsettle.claims.v1", 2, 17, b"P-XZ-001")
RECEIVED = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
REQUESTS = AvroCodec("settlement_request")
RESULTS = AvroCodec("settlement_result")


def codecs() -> dict[str, AvroCodec]:
    return {
        "settlement_request": REQUESTS,
        "person_event": AvroCodec("person_event"),
        "settlement_result": RESULTS,
        "registry_result": AvroCodec("registry_result"),
    }


class Event:
    """Stands in for the faust event a row is written under (any weak-referenceable object)."""


EVENT = Event()


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(CONTRACT / "example-scenario.yaml")


@pytest.fixture
def treatment(scenario: Scenario) -> TreatmentLocation:
    regions = {p.person_id: p.insured_region for p in scenario.persons}
    return TreatmentLocation(list(scenario.catalogs), regions.get, AvroCodec("hospital_claim"))


class Insured:
    """The insured handler over an in-memory table, writing rows after each request as
    the agent loop does at a batch's end."""

    def __init__(self, scenario: Scenario) -> None:
        self.table: dict[bytes, PersonRow] = {}
        self.rows: Rows[PersonRow] = Rows(self.table)
        self.redelivered = 0
        self.location = InsuredLocation(
            scenario.directory(), CatalogIndex(list(scenario.catalogs)), codecs(), self._count
        )

    def _count(self) -> None:
        self.redelivered += 1

    def deliver(self, payload: bytes) -> bytes:
        published = self.location.handle_request(payload, self.rows, EVENT).value
        self.rows.write()
        return published


def _json(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def _request(treatment: TreatmentLocation, event: dict[str, Any], request_id: str) -> bytes:
    outcome = treatment.handle(_json({**event, "request_id": request_id}), ORIGIN, RECEIVED)
    assert isinstance(outcome, Forward), outcome
    return REQUESTS.encode(outcome.request)


def test_a_claim_in_json_becomes_a_request_keyed_by_person(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    outcome = treatment.handle(_json(scenario.events[0]), ORIGIN, RECEIVED)
    assert isinstance(outcome, Forward)
    assert outcome.person_id == "P-XZ-001"
    detail = outcome.request["detail"][1]
    assert detail["totals"]["inscp_scp_amt"] == 2304  # SETTLEMENT_RULES example, by hand
    assert outcome.request["insured_region"] == "320300"
    assert outcome.request["request_id"] == "xsettle.claims.v1/2/17"
    assert outcome.request["submitted_at"] == RECEIVED


def test_avro_and_json_forms_give_the_same_request(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    event = scenario.events[0]
    avro = AvroCodec("hospital_claim").encode(event_to_claim(parse_event(event), "r-1"))
    by_json = treatment.handle(_json({**event, "request_id": "r-1"}), ORIGIN, RECEIVED)
    by_avro = treatment.handle(avro, ORIGIN, RECEIVED)
    assert isinstance(by_json, Forward) and isinstance(by_avro, Forward)
    assert by_json.request == by_avro.request


def test_a_reversal_must_name_its_person(treatment: TreatmentLocation) -> None:
    answer = treatment.handle(_json({"kind": "reverse", "claim_id": "C"}), ORIGIN, RECEIVED)
    assert isinstance(answer, Answer)
    assert answer.result["reason"] == "INVALID_CLAIM"
    assert answer.result["message"] == "person_id: required field is missing"
    routed = treatment.handle(
        _json({"kind": "reverse", "claim_id": "C", "person_id": "P-XZ-001"}), ORIGIN, RECEIVED
    )
    assert isinstance(routed, Forward) and routed.person_id == "P-XZ-001"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "key: an event must be keyed by its person_id; it has no key"),
        (b"\xff\xfe", "key: must be the person_id in UTF-8; it is not UTF-8"),
        (b"P-JZ-002", "key: must be the person_id 'P-XZ-001', not 'P-JZ-002'"),
    ],
)
def test_a_key_that_is_not_the_body_person_is_an_invalid_claim(
    treatment: TreatmentLocation, scenario: Scenario, key: bytes | None, problem: str
) -> None:
    origin = Origin(ORIGIN.topic, ORIGIN.partition, ORIGIN.offset, key)
    answer = treatment.handle(_json(scenario.events[0]), origin, RECEIVED)
    assert isinstance(answer, Answer) and answer.key == "P-XZ-001"
    assert answer.result["reason"] == "INVALID_CLAIM"
    assert answer.result["claim_id"] == "GZ-2025-0001"
    assert answer.result["message"] == problem


def test_the_treatment_answer_is_the_same_on_redelivery(treatment: TreatmentLocation) -> None:
    bad = _json({"kind": "settle", "claim_id": "C", "person_id": "P-XZ-001"})
    first, again = (treatment.handle(bad, ORIGIN, RECEIVED) for _ in range(2))
    assert isinstance(first, Answer) and isinstance(again, Answer)
    assert RESULTS.encode(first.result) == RESULTS.encode(again.result)


def test_undecodable_claims_raise_decode_error(treatment: TreatmentLocation) -> None:
    with pytest.raises(DecodeError):
        treatment.handle(b"\xff not json", ORIGIN, RECEIVED)


def test_a_redelivered_request_gets_its_first_bytes_and_pays_once(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    insured = Insured(scenario)
    payload = _request(treatment, scenario.events[0], "r-1")
    first, again = insured.deliver(payload), insured.deliver(payload)
    assert first == again
    assert insured.redelivered == 1
    state = insured.table[b"P-XZ-001"].insured
    assert state is not None
    ledger = state.ledger
    assert ledger.balance == 0  # 800.00 paid once from the account, not twice
    assert ledger.years[2025].visits["inpatient"] == 1


def test_a_late_redelivered_reversal_keeps_its_generation_and_changes_nothing(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    """Settle C, reverse C, settle C again, then the first reversal is redelivered: it
    gets back (C, REVERSED, generation 1) byte for byte; the re-settlement stands."""
    insured = Insured(scenario)
    settle, reverse = (
        scenario.events[0],
        {
            "kind": "reverse",
            "claim_id": scenario.events[0]["claim_id"],
            "person_id": "P-XZ-001",
        },
    )
    insured.deliver(_request(treatment, settle, "s-1"))
    reversal = _request(treatment, reverse, "r-1")
    first = insured.deliver(reversal)
    resettled = RESULTS.decode(insured.deliver(_request(treatment, settle, "s-2")))
    before = insured.table[b"P-XZ-001"].insured.ledger
    assert insured.deliver(reversal) == first
    after = insured.table[b"P-XZ-001"].insured.ledger
    assert before is not None and after is not None
    assert after.to_dict() == before.to_dict()
    assert after.settled(settle["claim_id"]) is not None
    assert RESULTS.decode(first)["status"] == "REVERSED"
    assert RESULTS.decode(first)["result_id"] != resettled["result_id"]


def test_a_request_id_reused_for_another_claim_is_a_new_request(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    insured = Insured(scenario)
    first = RESULTS.decode(insured.deliver(_request(treatment, scenario.events[0], "same")))
    other = RESULTS.decode(insured.deliver(_request(treatment, scenario.events[2], "same")))
    assert other["claim_id"] == scenario.events[2]["claim_id"] != first["claim_id"]
    assert insured.redelivered == 0


def test_a_failure_after_settling_leaves_the_row_as_it_was(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    """Memory never runs ahead of the changelog: if publishing fails, nothing changed."""
    insured = Insured(scenario)
    insured.deliver(_request(treatment, scenario.events[0], "s-1"))
    kept = insured.table[b"P-XZ-001"].to_state()

    def failing(record: dict[str, Any]) -> bytes:
        raise RuntimeError("producer gone")

    insured.location.codecs = {
        **insured.location.codecs,
        "settlement_result": type("Failing", (), {"encode": staticmethod(failing)})(),
    }
    with pytest.raises(RuntimeError):
        insured.location.handle_request(
            _request(treatment, scenario.events[2], "s-2"), insured.rows, EVENT
        )
    insured.rows.discard()
    assert insured.table[b"P-XZ-001"].to_state() == kept


def test_the_insured_reads_requests_without_their_lines_and_settles_the_same(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    payload = _request(treatment, scenario.events[0], "r-1")
    projected = AvroCodec("settlement_request", skip=ITEMISED).decode(payload)
    whole = REQUESTS.decode(payload)
    assert "lines" not in projected["detail"] and "categories" not in projected["detail"]
    assert len(whole["detail"]["lines"]) == len(scenario.events[0]["lines"])
    for field in ("totals", "treatment_region", "institution_level", "medical_type", "date"):
        assert projected["detail"][field] == whole["detail"][field], field
    results = []
    for codec in (REQUESTS, AvroCodec("settlement_request", skip=ITEMISED)):
        location = InsuredLocation(
            scenario.directory(),
            CatalogIndex(list(scenario.catalogs)),
            {**codecs(), "settlement_request": codec},
        )
        published = location.handle_request(payload, Rows({}), EVENT).value
        results.append({k: v for k, v in RESULTS.decode(published).items() if k != "settled_at"})
    assert results[0] == results[1]
    assert results[0]["status"] == "SETTLED"


def test_insured_undecodable_request_raises_decode_error(scenario: Scenario) -> None:
    location = InsuredLocation(scenario.directory(), CatalogIndex([]), codecs())
    with pytest.raises(DecodeError):
        location.handle_request(b"\x00\x00\x00\x00\x01junk", Rows({}), EVENT)


def test_a_person_event_in_the_wrong_partition_is_refused(scenario: Scenario) -> None:
    """A producer with another partitioner than murmur2 would put a person's events where
    another worker than the one holding the person's state reads them."""
    location = InsuredLocation(scenario.directory(), CatalogIndex([]), codecs(), partitions=8)
    event = {"kind": "enrol", "person_id": "P-XZ-001", "account_credit": "10.00"}
    right = person_partition(b"P-XZ-001", 8)
    wrong = Origin("xsettle.person-events.v1", (right + 1) % 8, 5, b"P-XZ-001")
    reply = location.handle_person_event(_json(event), wrong, RECEIVED, Rows({}), EVENT)
    refused = AvroCodec("registry_result").decode(reply.value)
    assert (refused["status"], refused["reason"]) == ("REJECTED", "ENROLMENT_INVALID")
    assert refused["message"].startswith(
        f"partition: an event keyed 'P-XZ-001' belongs in partition {right}"
    )
    origin = Origin("xsettle.person-events.v1", right, 5, b"P-XZ-001")
    reply = location.handle_person_event(_json(event), origin, RECEIVED, Rows({}), EVENT)
    assert AvroCodec("registry_result").decode(reply.value)["status"] == "ENROLLED"
