"""A schema registry outage loses no claim, and is shown to have really happened.

A small fake Confluent Schema Registry (the two REST calls the wire format needs, in a
thread) serves the services (``SCHEMA_REGISTRY_URL``). It goes down for ~5 s in the
middle of a run, at a point where both services must ask it something they have not
cached: the insured service must register the schema of its first answer to a person
event (its first ever), and hospital claims start arriving in Avro under a schema id
the treatment service has never seen. Both workers report the stall on ``/ready`` and
retry; once the registry is back every claim is answered as offline, with no dead
letter and no worker lost. The registry client's own failure modes (refused, 5xx, no
answer, unknown id, a URL that is not a registry) are checked against the same fake.
"""

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from xsettle.engine.claims import InvalidClaim, parse_event
from xsettle.errors import InfrastructureError
from xsettle.exchange.contract.codec import AvroCodec, DecodeError, schema_json
from xsettle.exchange.contract.records import record_answer
from xsettle.exchange.contract.registry import SchemaRegistry, registry_at
from xsettle.exchange.processes.host import free_port
from xsettle.exchange.processes.topic_reader import read_topic
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import person_key, submit_scenario
from xsettle.pipeline.workers import Worker
from xsettle.traffic import TrafficMix, generate_day

TIMEOUT = 90.0
OUTAGE = 5.0
"""Seconds the registry stays down (the services' retries last ~30 s)."""


class FakeRegistry:
    """``POST /subjects/{s}/versions`` → ``{"id": n}``, ``GET /schemas/ids/{n}`` →
    ``{"schema": "..."}`` (404 with code 40403 for an unknown id), on a fixed loopback
    port; :meth:`stop` closes the socket (connection refused), :meth:`start` reopens it.
    ``failing`` answers 503 to everything. ``calls`` lists (time, method, path) answered,
    ``subjects`` the id each subject was last registered with."""

    def __init__(self) -> None:
        self.port = free_port()
        self.failing = False
        self.calls: list[tuple[float, str, str]] = []
        self._ids: dict[str, int] = {}
        self._schemas: dict[int, str] = {}
        self.subjects: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeRegistry":
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry._answer(self, "GET", None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                registry._answer(self, "POST", self.rfile.read(length))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def paths_since(self, since: float, method: str = "GET") -> list[str]:
        with self._lock:
            return [path for at, m, path in self.calls if at >= since and m == method]

    def _answer(self, request: BaseHTTPRequestHandler, method: str, body: bytes | None) -> None:
        with self._lock:
            self.calls.append((time.monotonic(), method, request.path))
            status, reply = self._route(method, request.path, body)
        data = json.dumps(reply).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _route(self, method: str, path: str, body: bytes | None) -> tuple[int, dict[str, Any]]:
        if self.failing:
            return 503, {"error_code": 50003, "message": "Error while forwarding the request"}
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 3 and parts[::2] == ["subjects", "versions"]:
            schema = json.loads(body or b"{}")["schema"]
            schema_id = self._ids.setdefault(schema, len(self._ids) + 1)
            self._schemas[schema_id] = schema
            self.subjects[parts[1]] = schema_id
            return 200, {"id": schema_id}
        if method == "GET" and len(parts) == 3 and parts[:2] == ["schemas", "ids"]:
            schema_id = int(parts[2])
            if schema_id in self._schemas:
                return 200, {"schema": self._schemas[schema_id]}
            return 404, {"error_code": 40403, "message": f"Schema {schema_id} not found"}
        return 404, {"message": "HTTP 404 Not Found"}  # not a registry path: no error_code


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    registry = FakeRegistry().start()
    try:
        yield registry
    finally:
        registry.stop()


def test_registry_faults_are_infrastructure_and_unknown_ids_bad_input(
    fake_registry: FakeRegistry,
) -> None:
    client = SchemaRegistry(fake_registry.url, timeout=0.5)
    schema = schema_json("settlement_result")
    schema_id = client.register("settlement_result", schema)
    assert SchemaRegistry(fake_registry.url).schema(schema_id) == schema

    unknown = AvroCodec("settlement_result", SchemaRegistry(fake_registry.url))
    with pytest.raises(DecodeError, match=f"schema id 4711 is unknown to .*{fake_registry.port}"):
        unknown.decode(b"\x00" + struct.pack(">I", 4711) + b"\x02")

    def fault(registry: SchemaRegistry, call: str) -> str:
        with pytest.raises(InfrastructureError) as caught:
            if call == "get":
                registry.schema(4711)
            else:
                registry.register("dead_letter", schema_json("dead_letter"))
        line = str(caught.value)
        assert "\n" not in line and f"schema registry {registry.url} unavailable" in line, line
        return line

    wrong = SchemaRegistry(fake_registry.url + "/not-the-registry", timeout=0.5)
    assert "HTTP 404" in fault(wrong, "get")  # a bare 404 is no verdict on the id
    fake_registry.failing = True
    assert "HTTP 503" in fault(client, "get")
    assert "HTTP 503" in fault(client, "post")
    fake_registry.failing = False
    fake_registry.stop()
    assert "connection refused" in fault(client, "get")
    assert "connection refused" in fault(client, "post")
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        mute = SchemaRegistry(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        assert "no answer within 0.5 s" in fault(mute, "get")
    assert client.schema(schema_id) == schema  # what it knows it keeps knowing


def _wait_stalled(worker: Worker, timeout: float = 15.0) -> str:
    """What the worker's ``/ready`` says it is stalled on, once it says so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = worker.readiness() or {}
        if state.get("stalled"):
            assert state["ready"] is False, state
            return str(state["stalled"])
        time.sleep(0.1)
    raise AssertionError(f"{worker.service} never reported a stall; see {worker.log_path}")


def _valid(event: Any) -> bool:
    try:
        parse_event(event)
    except InvalidClaim:
        return False
    return True


def test_a_registry_outage_loses_no_claim(
    broker_env: object,
    fake_registry: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Claims only (no life-cycle events), so nothing waits for an answer while
    # submitting; the one person event is sent on purpose, for a newcomer.
    day = generate_day(claims=450, persons=80, seed=23, mix=TrafficMix(life_cycle=0))
    model = day.persons[0]
    newcomer = {
        "kind": "enrol",
        "person_id": "P-NEW-OUTAGE",
        "insured_region": model.insured_region,
        "scheme": model.scheme,
        "member_type": model.member_type,
        "account_credit": "500.00",
    }
    size = len(day.events) // 3
    warm, during, avro = day.events[:size], day.events[size : 2 * size], day.events[2 * size :]
    scenario = day.model_copy(update={"events": [*warm, newcomer, *during, *avro]})
    exchange = scenario.exchange()
    expected = [exchange.process(event).to_record() for event in scenario.events]

    monkeypatch.setenv("SCHEMA_REGISTRY_URL", fake_registry.url)  # the workers' too
    # The claims' schema is registered before the outage, as a hospital's would be;
    # the treatment service has never seen its id.
    claim_schema = registry_at(fake_registry.url).register(
        "hospital_claim", schema_json("hospital_claim")
    )
    with Cluster(scenario, tmp_path) as cluster:
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            # Warm: the services fetch and register what claims need, including the
            # treatment service's own answers (an invalid claim is answered there).
            ids = submit_scenario(client, warm, "r")
            client.submit({"kind": "settle", "claim_id": "WARM"}, "warm-invalid", "P-WARM")
            found = client.collect([*ids, "warm-invalid"], TIMEOUT)
            assert found["warm-invalid"]["reason"] == "INVALID_CLAIM"
            assert "registry_result" not in fake_registry.subjects

            down_at = time.monotonic()
            fake_registry.stop()
            ids += submit_scenario(client, [newcomer, *during], "r", len(ids))
            insured_stall = _wait_stalled(cluster.worker("insured"))
            for index, event in enumerate(avro, start=len(ids)):
                if _valid(event):
                    client.submit_avro(parse_event(event), f"r-{index}")
                else:
                    client.submit(event, f"r-{index}", person_key(event))
                ids.append(f"r-{index}")
            client.flush()
            treatment_stall = _wait_stalled(cluster.worker("treatment"))
            time.sleep(max(0.0, down_at + OUTAGE - time.monotonic()))
            up_at = time.monotonic()
            fake_registry.start()
            outage = up_at - down_at

            found = client.collect(ids, TIMEOUT, already=found)
            letters = read_topic(cluster.bootstrap, cluster.topics.dead_letters)
            still_up = sorted(w.service for w in cluster.workers if w.alive())
        finally:
            client.close()

    print(f"registry down {outage:.1f} s")
    assert [record_answer(found[rid]).to_record() for rid in ids] == expected
    assert letters == [], "a message was dead-lettered during the outage"
    assert still_up == ["insured", "treatment"], "a worker gave up"
    # The outage really hit both services: each said so, naming the registry and
    # the call it needed...
    for stall in (insured_stall, treatment_stall):
        assert f"schema registry {fake_registry.url} unavailable" in stall, stall
        assert "connection refused" in stall, stall
    assert "POST /subjects/registry_result/versions" in insured_stall
    assert f"GET /schemas/ids/{claim_schema}" in treatment_stall
    # ...and made that call once the registry was back.
    assert "/subjects/registry_result/versions" in fake_registry.paths_since(up_at, "POST")
    assert f"/schemas/ids/{claim_schema}" in fake_registry.paths_since(up_at, "GET")
    assert OUTAGE <= outage < 20
