"""The services' message handlers without Kafka: bytes in, results or dead letters out."""

import json
from pathlib import Path

import pytest

from xsettle.engine import Ledger, parse_event
from xsettle.exchange.codec import AvroCodec
from xsettle.exchange.deadletter import Origin
from xsettle.exchange.records import ITEMISED, event_to_claim
from xsettle.insured.location import InsuredLocation, Settled
from xsettle.insured.location import Undecodable as InsuredUndecodable
from xsettle.scenario import Scenario, load_scenario
from xsettle.treatment.location import Answer, Forward, TreatmentLocation, Undecodable

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract"
ORIGIN = Origin("xsettle.claims.v1", 2, 17, b"P-XZ-001")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(CONTRACT / "example-scenario.yaml")


@pytest.fixture
def treatment(scenario: Scenario) -> TreatmentLocation:
    regions = {p.person_id: p.insured_region for p in scenario.persons}
    return TreatmentLocation(list(scenario.catalogs), regions.get, AvroCodec("hospital_claim"))


def _json(event: dict) -> bytes:
    return json.dumps(event).encode()


def test_a_claim_in_json_becomes_a_request_keyed_by_person(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    outcome = treatment.handle(_json(scenario.events[0]), ORIGIN, lambda claim: None)
    assert isinstance(outcome, Forward)
    assert outcome.person_id == "P-XZ-001"
    detail = outcome.request["detail"][1]
    assert detail["totals"]["inscp_scp_amt"] == 2304  # SETTLEMENT_RULES example, by hand
    assert outcome.request["insured_region"] == "320300"
    assert outcome.request["request_id"] == "xsettle.claims.v1/2/17"


def test_avro_and_json_forms_give_the_same_request(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    event = scenario.events[0]
    avro = AvroCodec("hospital_claim").encode(event_to_claim(parse_event(event), "r-1"))
    by_json = treatment.handle(_json({**event, "request_id": "r-1"}), ORIGIN, lambda c: None)
    by_avro = treatment.handle(avro, ORIGIN, lambda c: None)
    assert isinstance(by_json, Forward) and isinstance(by_avro, Forward)
    by_json.request.pop("submitted_at")
    by_avro.request.pop("submitted_at")
    assert by_json.request == by_avro.request


def test_a_malformed_claim_is_answered_at_once_naming_the_field(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    bad = {**scenario.events[0], "institution_level": 7}
    outcome = treatment.handle(_json(bad), ORIGIN, lambda claim: None)
    assert isinstance(outcome, Answer)
    assert outcome.result["status"] == "REJECTED"
    assert outcome.result["reason"] == "INVALID_CLAIM"
    assert outcome.result["message"].startswith("institution_level:")


def test_garbage_bytes_become_a_dead_letter_with_their_origin(
    treatment: TreatmentLocation,
) -> None:
    outcome = treatment.handle(b"\xff\xfe not json", ORIGIN, lambda claim: None)
    assert isinstance(outcome, Undecodable)
    letter = outcome.dead_letter
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("xsettle.claims.v1", 2, 17)
    assert letter["payload"] == b"\xff\xfe not json"
    assert "neither Avro nor JSON" in letter["reason"]


def test_a_claim_too_large_for_the_wire_is_answered_not_forwarded(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    line = {"code": "XA01", "unit_price": "1e9", "quantity": "1e4"}
    huge = {**scenario.events[0], "lines": [line]}
    outcome = treatment.handle(_json(huge), ORIGIN, lambda claim: None)
    assert isinstance(outcome, Answer)
    assert outcome.result["reason"] == "INVALID_CLAIM"
    assert outcome.result["message"].startswith("lines[0]: unit_price × quantity")


def test_a_reversal_without_person_is_routed_by_the_register(
    treatment: TreatmentLocation,
) -> None:
    reverse = _json({"kind": "reverse", "claim_id": "GZ-2025-0002"})
    routed = treatment.handle(reverse, ORIGIN, {"GZ-2025-0002": "P-XZ-001"}.get)
    assert isinstance(routed, Forward) and routed.person_id == "P-XZ-001"
    unknown = treatment.handle(reverse, ORIGIN, lambda claim: None)
    assert isinstance(unknown, Answer) and unknown.result["reason"] == "UNKNOWN_SETTLEMENT"


def test_a_redelivered_request_gets_its_first_answer_and_pays_once(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    forward = treatment.handle(_json(scenario.events[0]), ORIGIN, lambda claim: None)
    assert isinstance(forward, Forward)
    codec = AvroCodec("settlement_request")
    payload = codec.encode(forward.request)
    insured = InsuredLocation(scenario.directory(), codec)
    ledgers: dict[str, Ledger] = {}

    def deliver() -> Settled:
        outcome = insured.handle(payload, ORIGIN, ledgers.get)
        assert isinstance(outcome, Settled)
        assert outcome.ledger is not None
        ledgers[outcome.person_id] = outcome.ledger
        return outcome

    first, again = deliver(), deliver()
    assert first.result["result_id"] == again.result["result_id"]
    assert first.result["amounts"] == again.result["amounts"]
    ledger = ledgers["P-XZ-001"]
    assert ledger.balance == 0  # 800.00 paid once from the account, not twice
    assert ledger.years[2025].visits["inpatient"] == 1


def test_the_insured_reads_requests_without_their_lines_and_settles_the_same(
    treatment: TreatmentLocation, scenario: Scenario
) -> None:
    forward = treatment.handle(_json(scenario.events[0]), ORIGIN, lambda claim: None)
    assert isinstance(forward, Forward)
    payload = AvroCodec("settlement_request").encode(forward.request)
    projected = AvroCodec("settlement_request", skip=ITEMISED).decode(payload)
    whole = AvroCodec("settlement_request").decode(payload)
    assert "lines" not in projected["detail"] and "categories" not in projected["detail"]
    assert len(whole["detail"]["lines"]) == len(scenario.events[0]["lines"])
    for field in ("totals", "treatment_region", "institution_level", "medical_type", "date"):
        assert projected["detail"][field] == whole["detail"][field], field
    results = []
    for codec in (AvroCodec("settlement_request"), AvroCodec("settlement_request", skip=ITEMISED)):
        outcome = InsuredLocation(scenario.directory(), codec).handle(
            payload, ORIGIN, lambda person: None
        )
        assert isinstance(outcome, Settled)
        results.append({k: v for k, v in outcome.result.items() if k != "settled_at"})
    assert results[0] == results[1]
    assert results[0]["status"] == "SETTLED"


def test_insured_undecodable_request_is_a_dead_letter(scenario: Scenario) -> None:
    insured = InsuredLocation(scenario.directory(), AvroCodec("settlement_request"))
    outcome = insured.handle(b"\x00\x00\x00\x00\x01junk", ORIGIN, lambda person: None)
    assert isinstance(outcome, InsuredUndecodable)
    assert outcome.dead_letter["service"] == "insured"
