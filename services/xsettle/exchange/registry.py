"""A minimal Confluent Schema Registry client (the REST subset the wire format needs).

Only the standard library: registering a subject's schema and fetching a schema by
id, both cached, since ids never change once assigned.
"""

import json
import urllib.request
from functools import cache
from typing import Any

from ..settings import Settings


class SchemaRegistry:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._ids: dict[str, int] = {}
        self._by_id: dict[int, dict[str, Any]] = {}

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        """The id of ``schema`` under ``subject`` (registered if new)."""
        if subject not in self._ids:
            reply = self._call(
                f"/subjects/{subject}/versions", {"schema": json.dumps(schema, sort_keys=True)}
            )
            self._ids[subject] = int(reply["id"])
            self._by_id[self._ids[subject]] = schema
        return self._ids[subject]

    def schema(self, schema_id: int) -> dict[str, Any]:
        if schema_id not in self._by_id:
            reply = self._call(f"/schemas/ids/{schema_id}")
            self._by_id[schema_id] = json.loads(reply["schema"])
        return self._by_id[schema_id]

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
            method="POST" if body is not None else "GET",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())


def registry_from_env(settings: Settings | None = None) -> SchemaRegistry | None:
    """The registry named by ``SCHEMA_REGISTRY_URL`` (in ``settings``, else the
    environment's), if any; one client per URL."""
    url = (settings or Settings()).schema_registry_url
    return registry_at(url) if url else None


@cache
def registry_at(url: str) -> SchemaRegistry:
    return SchemaRegistry(url)
