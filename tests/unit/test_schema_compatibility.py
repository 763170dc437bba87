"""The wire contract: every released schema version stays readable by the current one.

A change that breaks backward compatibility (a field without a default, a changed
type, a renamed record) fails here, because data written with the released version
no longer decodes with the new schema.
"""

import io

import fastavro
import pytest
from fastavro.utils import generate_many

from xsettle.exchange.contract.codec import AvroCodec, released_versions, schema_json

NAMES = (
    "hospital_claim",
    "settlement_request",
    "settlement_result",
    "dead_letter",
    "person_event",
    "registry_result",
    "clearing_statement",
    "clearing_control",
)


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_has_a_released_version(name: str) -> None:
    assert released_versions(name), f"schemas/released/{name}.v1.avsc is missing"


@pytest.mark.parametrize("name", NAMES)
def test_current_schema_reads_data_written_with_every_released_version(name: str) -> None:
    current = fastavro.parse_schema(schema_json(name))
    for version in released_versions(name):
        old = fastavro.parse_schema(schema_json(name, version))
        for record in generate_many(old, 25):
            buffer = io.BytesIO()
            fastavro.schemaless_writer(buffer, old, record)
            buffer.seek(0)
            fastavro.schemaless_reader(buffer, old, current)


def test_an_incompatible_change_is_caught() -> None:
    """The check itself can fail: a new field without a default breaks old data."""
    old = fastavro.parse_schema(schema_json("dead_letter", "v1"))
    broken = schema_json("dead_letter")
    broken = {**broken, "fields": [*broken["fields"], {"name": "priority", "type": "int"}]}
    record = next(iter(generate_many(old, 1)))
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, old, record)
    buffer.seek(0)
    with pytest.raises(fastavro.read.SchemaResolutionError):
        fastavro.schemaless_reader(buffer, old, fastavro.parse_schema(broken))


def test_money_is_avro_decimal_never_double() -> None:
    for name in NAMES:
        text = str(schema_json(name))
        assert "'double'" not in text and "'float'" not in text, name
    amounts = AvroCodec("settlement_result").schema
    assert "decimal" in str(amounts)
