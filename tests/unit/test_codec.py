"""Avro framing: single-object encoding by default, the Confluent wire format with a
registry, and clear errors for bytes that are neither."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from xsettle.exchange.contract.codec import AvroCodec, DecodeError, crc64_fingerprint, schema_json
from xsettle.exchange.contract.registry import SchemaRegistry

LETTER: dict[str, Any] = {
    "reason": "not Avro",
    "topic": "xsettle.claims.v1",
    "partition": 3,
    "offset": 42,
    "key": b"P1",
    "payload": b"\x00garbage",
    "service": "treatment",
    "failed_at": datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
    "payload_size": 8,
    "payload_sha256": None,
    "key_sha256": None,
}


def test_single_object_encoding_has_the_spec_header() -> None:
    codec = AvroCodec("dead_letter")
    data = codec.encode(LETTER)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == crc64_fingerprint(schema_json("dead_letter"))
    assert codec.decode(data) == LETTER


def test_crc64_fingerprint_of_a_primitive_matches_the_avro_spec() -> None:
    # The Avro spec's fingerprint of "int" is 0x7275d51a3f395c8f (CRC-64-AVRO).
    assert crc64_fingerprint("int") == (0x7275D51A3F395C8F).to_bytes(8, "little")


def test_money_round_trips_exactly() -> None:
    codec = AvroCodec("settlement_result")
    amount_fields = schema_json("settlement_result")["fields"][7]["type"][1]["fields"]
    record = {
        "result_id": "r",
        "request_id": None,
        "claim_id": "C1",
        "status": "SETTLED",
        "filing_type": "long_term",
        "reason": None,
        "message": None,
        "amounts": (
            "xsettle.v1.SettlementAmounts",
            {field["name"]: Decimal("0.01") * (i + 1) for i, field in enumerate(amount_fields)},
        ),
        "person_id": "P1",
        "insured_region": "320300",
        "treatment_region": "440106",
        "medical_type": "inpatient",
        "submitted_at": None,
        "settled_at": datetime(2025, 3, 1, tzinfo=UTC),
    }
    decoded = codec.decode(codec.encode(record))
    assert decoded["amounts"]["medfee_sumamt"] == Decimal("0.01")
    assert decoded["amounts"]["balc"] == Decimal("0.14")
    assert all(isinstance(v, Decimal) for v in decoded["amounts"].values())


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "unknown framing"),
        (b'{"kind": "settle"}', "unknown framing"),
        (b"\xc3\x01" + b"\x00" * 8 + b"x", "unknown schema fingerprint"),
    ],
)
def test_undecodable_bytes_say_why(data: bytes, words: str) -> None:
    with pytest.raises(DecodeError, match=words):
        AvroCodec("settlement_request").decode(data)


def test_a_truncated_body_is_a_decode_error() -> None:
    codec = AvroCodec("dead_letter")
    with pytest.raises(DecodeError):
        codec.decode(codec.encode(LETTER)[:-3])


class _Registry(BaseHTTPRequestHandler):
    """The two endpoints of the Confluent Schema Registry REST API the codec uses."""

    schemas: ClassVar[dict[int, str]] = {}

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        schema_id = len(self.schemas) + 1
        self.schemas[schema_id] = body["schema"]
        self._reply({"id": schema_id})

    def do_GET(self) -> None:
        schema_id = int(self.path.rsplit("/", 1)[1])
        self._reply({"schema": self.schemas[schema_id]})

    def _reply(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def registry_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_confluent_wire_format_with_a_registry(registry_url: str) -> None:
    writer = AvroCodec("dead_letter", SchemaRegistry(registry_url))
    data = writer.encode(LETTER)
    assert data[0] == 0 and int.from_bytes(data[1:5], "big") == 1
    reader = AvroCodec("dead_letter", SchemaRegistry(registry_url))
    assert reader.decode(data) == LETTER
