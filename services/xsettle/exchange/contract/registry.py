"""A minimal Confluent Schema Registry client (the REST subset the wire format needs).

Only the standard library: registering a subject's schema and fetching a schema by
id, both cached, since ids never change once assigned.

How it fails decides what happens to the message that needed it (see
:mod:`xsettle.exchange.runtime.agent_loop`): a registry that cannot be reached (connection
refused, no answer in time, HTTP 5xx, any answer that is not the registry's) is an
:class:`~xsettle.errors.InfrastructureError`, so the message is retried, never
dead-lettered; a schema id the registry answers it does not know (HTTP 404 with the
registry's own "schema not found" code) is bad input, a
:class:`~xsettle.errors.DecodeError`. A bare 404 (a wrong URL, a proxy's page)
is not taken for an unknown id: that would dead-letter every valid message.
"""

import http.client
import json
import urllib.error
import urllib.request
from functools import cache
from typing import Any

from ...errors import DecodeError, InfrastructureError
from ...settings import Settings

SCHEMA_NOT_FOUND = 40403
"""The registry's ``error_code`` for an unknown schema id (Confluent, Karapace, Redpanda)."""


class _UnknownSchema(Exception):
    """The registry answered that it does not know the schema id asked for."""


class SchemaRegistry:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        """Seconds to wait for an answer; the call blocks the worker's loop meanwhile."""
        self._ids: dict[str, int] = {}
        self._by_id: dict[int, dict[str, Any]] = {}

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        """The id of ``schema`` under ``subject`` (registered if new)."""
        if subject not in self._ids:
            path = f"/subjects/{subject}/versions"
            try:
                reply = self._call(path, {"schema": json.dumps(schema, sort_keys=True)})
            except _UnknownSchema:
                raise self._fault("POST", path, "HTTP 404") from None
            schema_id = reply.get("id")
            if not isinstance(schema_id, int):
                raise self._fault("POST", path, f"no schema id in its answer {_short(reply)}")
            self._ids[subject] = schema_id
            self._by_id[schema_id] = schema
        return self._ids[subject]

    def schema(self, schema_id: int) -> dict[str, Any]:
        """The writer schema with ``schema_id``; :class:`DecodeError` if the registry
        does not know it, :class:`InfrastructureError` if it cannot say."""
        if schema_id not in self._by_id:
            path = f"/schemas/ids/{schema_id}"
            try:
                reply = self._call(path)
            except _UnknownSchema:
                raise DecodeError(
                    f"schema id {schema_id} is unknown to the schema registry at {self.url}"
                ) from None
            try:
                self._by_id[schema_id] = json.loads(reply["schema"])
            except (KeyError, TypeError, ValueError):
                raise self._fault("GET", path, f"no schema in its answer {_short(reply)}") from None
        return self._by_id[schema_id]

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        method = "POST" if body is not None else "GET"
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = _error_body(error)
            if error.code == 404 and detail.get("error_code") == SCHEMA_NOT_FOUND:
                raise _UnknownSchema() from None
            problem = f"HTTP {error.code} {_short(detail.get('message') or error.reason)}"
            if error.code == 404:
                problem += " (not the registry's 'schema not found': is the URL right?)"
            raise self._fault(method, path, problem) from None
        except urllib.error.URLError as error:  # refused, unresolvable, timed out connecting
            raise self._fault(method, path, self._reason(error.reason)) from None
        except (OSError, http.client.HTTPException) as error:  # timed out, reset, bad reply
            raise self._fault(method, path, self._reason(error)) from None
        try:
            reply = json.loads(raw)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise self._fault(method, path, f"an answer that is not a JSON object: {raw[:80]!r}")
        return reply

    def _reason(self, reason: object) -> str:
        if isinstance(reason, TimeoutError):
            return f"no answer within {self.timeout:g} s"
        if isinstance(reason, OSError) and reason.strerror:
            return reason.strerror.lower()
        return _short(reason) or type(reason).__name__

    def _fault(self, method: str, path: str, problem: str) -> InfrastructureError:
        """The one line an operator sees: which registry, which call, what went wrong."""
        line = f"schema registry {self.url} unavailable: {method} {path}: {problem}"
        return InfrastructureError(" ".join(line.split()))


def _error_body(error: urllib.error.HTTPError) -> dict[str, Any]:
    """The registry's JSON error body (``error_code``, ``message``), or {}."""
    try:
        body = json.loads(error.read())
    except (OSError, ValueError, http.client.HTTPException):
        return {}
    return body if isinstance(body, dict) else {}


def _short(value: object, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def registry_from_env(settings: Settings | None = None) -> SchemaRegistry | None:
    """The registry named by ``SCHEMA_REGISTRY_URL`` (in ``settings``, else the
    environment's), if any; one client per URL."""
    url = (settings or Settings()).schema_registry_url
    return registry_at(url) if url else None


@cache
def registry_at(url: str) -> SchemaRegistry:
    return SchemaRegistry(url)
