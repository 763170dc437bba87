"""Redelivery is harmless at any density: crash after k requests, replay from any j ≤ k.

The insured handler runs over an in-memory table exactly as the agent loop drives
it (rows staged, written at the end of each batch). A crash keeps what the table
held after request k and loses the rest; the consumer then resumes from an earlier
committed position j. The ledgers, and the content of every result id, must equal
those of an uninterrupted run, and within the crashed run no result id may carry
two contents.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xsettle.engine import CatalogIndex
from xsettle.exchange.contract.codec import AvroCodec
from xsettle.exchange.contract.deadletter import Origin
from xsettle.exchange.runtime.tables import Rows
from xsettle.insured.location import InsuredLocation
from xsettle.insured.row import PersonRow
from xsettle.scenario import Scenario, load_scenario
from xsettle.treatment.location import Forward, TreatmentLocation

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract"
SCENARIO: Scenario = load_scenario(CONTRACT / "example-scenario.yaml")
REQUESTS = AvroCodec("settlement_request")
RESULTS = AvroCodec("settlement_result")
CODECS = {
    "settlement_request": REQUESTS,
    "person_event": AvroCodec("person_event"),
    "settlement_result": RESULTS,
    "registry_result": AvroCodec("registry_result"),
}
TREATMENT = TreatmentLocation(
    list(SCENARIO.catalogs),
    {p.person_id: p.insured_region for p in SCENARIO.persons}.get,
    AvroCodec("hospital_claim"),
)


class Event:
    pass


def _forward(event: dict[str, Any], request_id: str) -> Any:
    raw = {**event, "request_id": request_id}
    origin = Origin("claims", 0, 0, event["person_id"].encode())
    return TREATMENT.handle(
        json.dumps(raw, default=str).encode(), origin, datetime(2025, 1, 1, tzinfo=UTC)
    )


def _request(event: dict[str, Any], request_id: str) -> bytes:
    outcome = _forward(event, request_id)
    assert isinstance(outcome, Forward)
    return REQUESTS.encode(outcome.request)


SETTLES = [
    event
    for event in SCENARIO.events
    if event["kind"] == "settle" and isinstance(_forward(event, "probe"), Forward)
]


@st.composite
def streams(draw: st.DrawFn) -> list[bytes]:
    """Settles, re-settles and reversals of a few claims of a few persons."""
    requests = []
    for index in range(draw(st.integers(1, 40))):
        settle = draw(st.sampled_from(SETTLES))
        if draw(st.integers(0, 2)) == 0:
            event = {
                "kind": "reverse",
                "claim_id": settle["claim_id"],
                "person_id": settle["person_id"],
            }
        else:
            event = settle
        requests.append(_request(event, f"q{index}"))
    return requests


def _run(table: dict[bytes, PersonRow], requests: list[bytes], batch: int) -> list[bytes]:
    rows: Rows[PersonRow] = Rows(table)
    location = InsuredLocation(SCENARIO.directory(), CatalogIndex(list(SCENARIO.catalogs)), CODECS)
    published = []
    for start in range(0, len(requests), batch):
        event = Event()
        for payload in requests[start : start + batch]:
            published.append(location.handle_request(payload, rows, event).value)
        rows.write()
    return published


def _ledgers(table: dict[bytes, PersonRow]) -> dict[bytes, Any]:
    return {key: row.insured.to_dict() for key, row in table.items() if row.insured is not None}


def _content(published: bytes) -> tuple[str, dict[str, Any]]:
    record = RESULTS.decode(published)
    return record.pop("result_id"), {k: v for k, v in record.items() if k != "settled_at"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.data())
def test_crash_after_k_and_replay_from_j_equals_the_uninterrupted_run(
    requests: list[bytes], data: st.DataObject
) -> None:
    batch = data.draw(st.integers(1, 5), label="batch")
    k = data.draw(st.integers(0, len(requests)), label="k")
    k -= k % batch  # a crash loses the batch in progress: state is as of a batch's end
    j = data.draw(st.integers(0, k), label="j")

    clean: dict[bytes, PersonRow] = {}
    expected = dict(map(_content, _run(clean, requests, batch)))

    crashed: dict[bytes, PersonRow] = {}
    before = _run(crashed, requests[:k], batch)
    after = _run(crashed, requests[j:], batch)

    assert _ledgers(crashed) == _ledgers(clean)
    seen: dict[str, bytes] = {}
    for published in before + after:
        result_id, content = _content(published)
        assert content == expected[result_id]
        assert seen.setdefault(result_id, published) == published, "two contents for one id"
    assert {rid for rid, _ in map(_content, after[k - j :])} <= set(expected)
