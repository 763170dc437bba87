"""Avro on the wire: single-object encoding by default, Confluent framing with a registry.

Single-object encoding (Avro spec): ``C3 01`` + the schema's 8-byte little-endian
CRC-64-AVRO fingerprint + the binary body. The fingerprint lets a reader pick the
writer schema without a registry, so released schema versions stay readable.
With ``SCHEMA_REGISTRY_URL`` set, messages use the Confluent wire format instead
(``00`` + 4-byte big-endian schema id + body).
"""

import io
import json
import struct
from collections.abc import Collection
from functools import cache
from importlib import resources
from typing import Any

import fastavro
from fastavro.schema import expand_schema, fingerprint, to_parsing_canonical_form

from ...errors import DecodeError
from .registry import SchemaRegistry

__all__ = ["AvroCodec", "DecodeError", "looks_like_avro"]

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"


@cache
def schema_json(name: str, version: str | None = None) -> dict[str, Any]:
    """The committed schema ``name`` (e.g. ``settlement_result``), or a released version."""
    root = resources.files("xsettle") / "schemas"
    path = root / "released" / f"{name}.{version}.avsc" if version else root / f"{name}.avsc"
    return json.loads(path.read_text(encoding="utf-8"))


def released_versions(name: str) -> list[str]:
    """Released versions of a schema, e.g. ``["v1"]``: what readers must still accept."""
    root = resources.files("xsettle") / "schemas" / "released"
    prefix = f"{name}."
    return sorted(
        entry.name.removeprefix(prefix).removesuffix(".avsc")
        for entry in root.iterdir()
        if entry.name.startswith(prefix) and entry.name.endswith(".avsc")
    )


def crc64_fingerprint(schema: dict[str, Any] | str) -> bytes:
    """The 8-byte little-endian CRC-64-AVRO fingerprint of the schema's canonical form.

    fastavro's hex string already lists the bytes in little-endian order.
    """
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


def without_fields(schema: dict[str, Any], skip: Collection[str]) -> dict[str, Any]:
    """A reader schema that leaves out ``skip`` (``Record.field`` names, e.g.
    ``FeeDetail.lines``): Avro resolution then skips those bytes instead of building them.

    Named types are expanded first, so a type first defined inside a dropped field
    (``FeeSplit`` inside ``lines``) stays defined where it is still used.
    """
    wanted = set(skip)

    def prune(node: Any) -> Any:
        if isinstance(node, list):
            return [prune(branch) for branch in node]
        if not isinstance(node, dict):
            return node
        if node.get("type") == "record":
            record = node["name"].rsplit(".", 1)[-1]
            fields = [f for f in node["fields"] if f"{record}.{f['name']}" not in wanted]
            return {**node, "fields": [{**f, "type": prune(f["type"])} for f in fields]}
        if node.get("type") == "array":
            return {**node, "items": prune(node["items"])}
        return node

    return prune(expand_schema(schema))  # type: ignore[no-any-return]


class AvroCodec:
    """Encode and decode one record type; reads every released version of it.

    ``skip`` names fields this reader never uses (see :func:`without_fields`); decoded
    records lack them. Encoding always writes the whole schema.
    """

    def __init__(
        self, name: str, registry: SchemaRegistry | None = None, *, skip: Collection[str] = ()
    ) -> None:
        self.name = name
        self.registry = registry
        self.schema = fastavro.parse_schema(schema_json(name))
        self.reader = (
            fastavro.parse_schema(without_fields(schema_json(name), skip)) if skip else self.schema
        )
        self._registry_writers: dict[int, Any] = {}
        self._prefix = SINGLE_OBJECT_MAGIC + crc64_fingerprint(schema_json(name))
        self._writers = {
            crc64_fingerprint(schema_json(name, v)): fastavro.parse_schema(schema_json(name, v))
            for v in released_versions(name)
        }
        self._writers[self._prefix[2:]] = self.schema
        self._registry_id: int | None = None

    def encode(self, record: dict[str, Any]) -> bytes:
        buffer = io.BytesIO()
        if self.registry is None:
            buffer.write(self._prefix)
        else:
            if self._registry_id is None:
                self._registry_id = self.registry.register(self.name, schema_json(self.name))
            buffer.write(CONFLUENT_MAGIC + struct.pack(">I", self._registry_id))
        fastavro.schemaless_writer(buffer, self.schema, record)
        return buffer.getvalue()

    def decode(self, data: bytes) -> dict[str, Any]:
        writer = self._writer_for(data)
        body = io.BytesIO(data)
        body.seek(10 if data[:2] == SINGLE_OBJECT_MAGIC else 5)
        # No resolution when the writer used our very schema and we read all of it:
        # resolving a schema against itself costs a tenth of the decode for nothing.
        reader = None if writer is self.reader else self.reader
        try:
            record = fastavro.schemaless_reader(body, writer, reader)
        except Exception as error:  # fastavro raises many types on corrupt input
            raise DecodeError(f"corrupt {self.name} body: {error}") from None
        if body.tell() != len(data):
            raise DecodeError(f"{len(data) - body.tell()} trailing bytes after the {self.name}")
        return record  # type: ignore[return-value]

    def _writer_for(self, data: bytes) -> Any:
        if data[:2] == SINGLE_OBJECT_MAGIC and len(data) >= 10:
            writer = self._writers.get(data[2:10])
            if writer is None:
                raise DecodeError(f"unknown schema fingerprint {data[2:10].hex()} for {self.name}")
            return writer
        if data[:1] == CONFLUENT_MAGIC and len(data) >= 5 and self.registry is not None:
            (schema_id,) = struct.unpack(">I", data[1:5])
            writer = self._registry_writers.get(schema_id)
            if writer is None:
                writer = fastavro.parse_schema(self.registry.schema(schema_id))
                self._registry_writers[schema_id] = writer
            return writer
        raise DecodeError(f"not an Avro {self.name}: unknown framing {data[:2].hex() or 'empty'}")


def looks_like_avro(data: bytes) -> bool:
    """Whether a message uses one of the Avro framings (else: try JSON)."""
    return data[:2] == SINGLE_OBJECT_MAGIC or data[:1] == CONFLUENT_MAGIC
