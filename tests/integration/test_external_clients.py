"""The exchange from outside, as a hospital or a dashboard vendor would use it.

librdkafka (``confluent-kafka``, the most used Kafka client family) publishes JSON claims
keyed by person and reads the result topic back; the results are decoded with fastavro
from nothing but the published contract, the ``.avsc`` files in ``schemas/`` at the
repository root: the single-object header is checked against a CRC-64-AVRO fingerprint
computed here from the Avro specification, stripped, and the body read with
``fastavro.schemaless_reader``. No xsettle code decodes anything, and the results equal
the offline engine's.
"""

import io
import json
import struct
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pytest
from fastavro.schema import to_parsing_canonical_form

from xsettle.pipeline.cluster import Cluster
from xsettle.settings import Settings
from xsettle.traffic import TrafficMix, generate_day

kafka = pytest.importorskip(
    "confluent_kafka",
    reason="confluent-kafka is not installed (it is in the test extra: pip install -e '.[test]')",
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
TIMEOUT = 90.0


def _crc64_avro(data: bytes) -> int:
    """The Avro specification's 64-bit Rabin fingerprint ("CRC-64-AVRO"), as written there."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def _contract(name: str) -> tuple[Any, bytes]:
    """A published schema, parsed, and its single-object header (``C3 01`` + the
    little-endian fingerprint of its parsing canonical form)."""
    schema = json.loads((SCHEMAS / f"{name}.avsc").read_text(encoding="utf-8"))
    canonical = to_parsing_canonical_form(schema).encode("utf-8")
    return fastavro.parse_schema(schema), b"\xc3\x01" + struct.pack("<Q", _crc64_avro(canonical))


def _as_json_line(result: dict[str, Any]) -> dict[str, Any]:
    """A decoded SettlementResult in the JSON Lines form of SETTLEMENT_RULES §2 (what
    ``xsettle settle`` prints): money as exact two-decimal strings."""
    line: dict[str, Any] = {"claim_id": result["claim_id"], "status": result["status"]}
    if result["status"] == "SETTLED":
        line["filing_type"] = result["filing_type"]
    if result["amounts"] is not None:
        amounts: dict[str, Decimal] = result["amounts"]
        line.update({name: f"{value:.2f}" for name, value in amounts.items()})
    if result["reason"] is not None:
        line.update(reason=result["reason"], message=result["message"])
    return line


def _librdkafka(settings: Settings) -> dict[str, Any]:
    """The settings' connection security as librdkafka configuration."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap,
        "security.protocol": settings.security_protocol,
    }
    if settings.sasl:
        password = settings.sasl_password
        config.update(
            {
                "sasl.mechanism": settings.sasl_mechanism or "PLAIN",
                "sasl.username": settings.sasl_username,
                "sasl.password": password.get_secret_value() if password else None,
            }
        )
    for option, value in (
        ("ssl.ca.location", settings.ssl_cafile),
        ("ssl.certificate.location", settings.ssl_certfile),
        ("ssl.key.location", settings.ssl_keyfile),
    ):
        if value:
            config[option] = value
    return config


def test_librdkafka_and_the_published_schemas_are_all_a_client_needs(
    broker_env: object, tmp_path: Path
) -> None:
    # Claims only: a hospital's traffic (insured-side events have a topic of their own).
    scenario = generate_day(claims=150, persons=30, seed=21, mix=TrafficMix(life_cycle=0))
    exchange = scenario.exchange()
    expected = [exchange.process(event).to_record() for event in scenario.events]
    reader, header = _contract("settlement_result")
    run = uuid.uuid4().hex[:8]
    with Cluster(scenario, tmp_path) as cluster:
        assert cluster.settings is not None
        config = _librdkafka(cluster.settings)
        consumer = kafka.Consumer(
            {
                **config,
                "group.id": f"external-{run}",  # required by librdkafka; never joined
                "enable.auto.commit": False,
            }
        )
        producer = kafka.Producer({**config, "acks": "all", "linger.ms": 5})
        try:
            topic = cluster.topics.results
            partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
            consumer.assign(
                [kafka.TopicPartition(topic, p, kafka.OFFSET_BEGINNING) for p in partitions]
            )
            failures: list[str] = []

            def delivered(error: Any, message: Any) -> None:
                if error is not None:
                    failures.append(str(error))

            request_ids = []
            for index, event in enumerate(scenario.events):
                request_id = f"external-{run}-{index}"
                request_ids.append(request_id)
                person = event.get("person_id")  # malformed events may lack one
                producer.produce(
                    cluster.topics.claims,
                    key=person.encode() if isinstance(person, str) else None,
                    value=json.dumps({**event, "request_id": request_id}).encode(),
                    on_delivery=delivered,
                )
                producer.poll(0)
            assert producer.flush(30) == 0 and failures == []

            found: dict[str, dict[str, Any]] = {}
            deadline = time.monotonic() + TIMEOUT
            while len(found) < len(request_ids) and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                assert message.error() is None, message.error()
                value = message.value()
                assert value[:10] == header, "not single-object encoded with the published schema"
                result = fastavro.schemaless_reader(io.BytesIO(value[10:]), reader, None)
                found.setdefault(result["request_id"], result)
        finally:
            consumer.close()

    assert len(found) == len(request_ids), f"{len(request_ids) - len(found)} results missing"
    assert [_as_json_line(found[request_id]) for request_id in request_ids] == expected
