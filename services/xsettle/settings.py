"""Runtime settings: the one reader of the environment, so containers and tests configure alike.

Every variable of the README's settings table is a field of :class:`Settings`
(:data:`VARIABLES` maps field → variable). ``Settings()`` reads the environment;
keyword arguments (by field name) override it. A bad value is an :class:`XsettleError`
whose one line names the variable. Child processes get their environment from here too
(:meth:`Settings.child_environ`, :func:`inherited_environ`), so nothing else in the
package touches ``os.environ``.
"""

import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Self

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import XsettleError

GUARANTEES = ("at_least_once",)
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
STORES = ("memory://", "rocksdb://")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

EXACTLY_ONCE_REMOVED = (
    "exactly_once was removed (the embedded broker has no Kafka transactions and "
    "nothing tested it); use at_least_once"
)
EMBEDDED_PARTITIONS = 2
"""Partitions of every public topic on an embedded Tansu unless ``XSETTLE_PARTITIONS``
says otherwise. Tansu lists every record batch of a partition on each fetch, and at a
steady pace a producer sends about one batch per partition per linger, so fewer
partitions hold fewer, larger batches (measured, 4,000 claims at full load: 0.66 batches
and 0.42 ms of broker CPU per claim with 2 partitions, 2.38 and 1.40 ms with 8). Two
keep a second insured worker useful; a real Kafka keeps the default 8."""
_SERVER = re.compile(r"[^\s,:/]+(:\d{1,5})?")
_NAMESPACE = re.compile(r"[A-Za-z0-9._-]+")
_SECRET = ("KAFKA_SASL_PASSWORD",)

CHOICES: dict[str, tuple[tuple[str, ...], Callable[[str], str]]] = {
    "log_level": (LOG_LEVELS, str.lower),
    "security_protocol": (PROTOCOLS, str.upper),
    "sasl_mechanism": (SASL_MECHANISMS, str.upper),
}
"""Settings that take one of a few words: the words, and the case they are in."""

RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "bootstrap": (
        lambda servers: all(_SERVER.fullmatch(s) for s in servers.split(",")),
        "expected host:port[,host:port]",
    ),
    "namespace": (
        lambda namespace: _NAMESPACE.fullmatch(namespace) is not None,
        "use letters, digits, '.', '_' and '-' (it prefixes topic names)",
    ),
    "partitions": (lambda partitions: partitions >= 1, "must be at least 1"),
    "producer_linger_ms": (lambda ms: 0 <= ms <= 1000, "must be 0 to 1000 ms"),
    "producer_batch_bytes": (
        lambda size: 1024 <= size <= 900_000,
        "must be 1024 to 900000 bytes (below the 1,000,000-byte request limit)",
    ),
    "store": (lambda store: store.startswith(STORES), "use memory:// or rocksdb://"),
    "web_port": (lambda port: 0 <= port <= 65535, "must be a port, 0 to 65535"),
    "schema_registry_url": (
        lambda url: url.startswith(("http://", "https://")),
        "expected an http(s):// URL",
    ),
}
"""The other checked settings (when set): the test a value passes, what it should be."""


def _var(name: str, default: Any) -> Any:
    """A setting read from the environment variable ``name``."""
    return Field(default, validation_alias=name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,
        env_ignore_empty=True,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    bootstrap: str | None = _var("KAFKA_BOOTSTRAP_SERVERS", None)
    """Kafka bootstrap servers, host:port[,host:port]; None: none configured, so
    :func:`~xsettle.exchange.processes.broker.open_broker` starts an embedded Tansu."""
    embedded: bool = _var("XSETTLE_EMBEDDED_BROKER", False)
    """``bootstrap`` is an embedded Tansu (short sessions); False unless said so: set by
    ``open_broker`` when it starts one, and by ``xsettle broker``'s printed line."""
    namespace: str = _var("XSETTLE_NAMESPACE", "xsettle")
    """Prefix of every topic name (the public topics too, see ``exchange/topics.py``),
    of the consumer groups and of faust's internal topics."""
    partitions: int = _var("XSETTLE_PARTITIONS", 8)
    """Partitions of every public topic (an embedded Tansu started for us defaults to
    :data:`EMBEDDED_PARTITIONS`: :meth:`on_embedded`)."""
    producer_linger_ms: int = _var("XSETTLE_PRODUCER_LINGER_MS", 5)
    """How long a service's producer waits to fill a batch: a batch's sends go out
    together anyway (they are made before the loop yields), so this only groups what
    follows within it, and each hop's latency grows by it."""
    producer_batch_bytes: int = _var("XSETTLE_PRODUCER_BATCH_BYTES", 256 * 1024)
    """Largest record batch a service's producer builds, per partition (faust's default
    is 16 KB: at full load a batch of settlement requests was cut into many; each is an
    object the embedded broker keeps and lists). Below the producer's 1,000,000-byte
    request limit and Kafka's default ``message.max.bytes``, so right on Kafka too."""
    reference: Path | None = _var("XSETTLE_REFERENCE", None)
    """Policies, catalogs and persons the services load (a scenario without events)."""
    processing_guarantee: str = _var("XSETTLE_PROCESSING_GUARANTEE", "at_least_once")
    """Always ``at_least_once`` (see :data:`EXACTLY_ONCE_REMOVED`)."""
    store: str = _var("XSETTLE_TABLE_STORE", "memory://")
    """faust table store: ``memory://`` or ``rocksdb://``."""
    web_port: int = _var("XSETTLE_WEB_PORT", 0)
    """Port of a service's own web endpoint (0: pick a free one)."""
    data_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "xsettle",
        validation_alias="XSETTLE_DATA_DIR",
    )
    """Where workers keep table state (one directory each under it)."""
    log_level: str = _var("XSETTLE_LOG_LEVEL", "warning")
    """A worker's log level."""
    schema_registry_url: str | None = _var("SCHEMA_REGISTRY_URL", None)
    """With a registry: the Confluent wire format; without: Avro single-object encoding."""
    security_protocol: str = _var("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    sasl_mechanism: str | None = _var("KAFKA_SASL_MECHANISM", None)
    sasl_username: str | None = _var("KAFKA_SASL_USERNAME", None)
    sasl_password: SecretStr | None = _var("KAFKA_SASL_PASSWORD", None)
    ssl_cafile: str | None = _var("KAFKA_SSL_CAFILE", None)
    ssl_certfile: str | None = _var("KAFKA_SSL_CERTFILE", None)
    ssl_keyfile: str | None = _var("KAFKA_SSL_KEYFILE", None)

    def __init__(self, **values: Any) -> None:
        """The environment's settings, overridden by ``values`` (by field name)."""
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise XsettleError(_one_line(error)) from None

    # -- values: each validator's error names its variable ------------------------------

    @field_validator(*RULES)
    @classmethod
    def _check(cls, value: Any, info: ValidationInfo) -> Any:
        test, what = RULES[info.field_name]
        if value is not None and not test(value):
            raise XsettleError(f"{_variable(info.field_name)}={value!r}: {what}")
        return value

    @field_validator(*CHOICES)
    @classmethod
    def _choice(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:  # no SASL mechanism
            return None
        words, fold = CHOICES[info.field_name]
        if fold(value) not in words:
            raise XsettleError(
                f"{_variable(info.field_name)}={value!r}: must be one of {', '.join(words)}"
            )
        return fold(value)

    @field_validator("processing_guarantee")
    @classmethod
    def _guarantee(cls, value: str) -> str:
        if value == "exactly_once":
            raise XsettleError(
                f"XSETTLE_PROCESSING_GUARANTEE='exactly_once': {EXACTLY_ONCE_REMOVED}"
            )
        if value not in GUARANTEES:
            raise XsettleError(
                f"XSETTLE_PROCESSING_GUARANTEE={value!r}: must be at_least_once "
                "(exactly_once was removed)"
            )
        return value

    @model_validator(mode="after")
    def _sasl_credentials(self) -> Self:
        if self.sasl and not (self.sasl_username and self.sasl_password):
            raise XsettleError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return self

    # -- derived ---------------------------------------------------------------------

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def tls(self) -> bool:
        return self.security_protocol.endswith("SSL")

    @classmethod
    def from_env(cls) -> "Settings":
        """The environment's settings (the same as ``Settings()``)."""
        return cls()

    def but(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` (by field name), validated like the environment's."""
        checked = type(self)(**{**self.model_dump(), **changes})
        return self.model_copy(update={name: getattr(checked, name) for name in changes})

    def isolated(self) -> "Settings":
        """Settings for a run that must not meet others: on a configured (shared) cluster
        a namespace of its own, unless ``XSETTLE_NAMESPACE`` names one; an embedded broker
        started for the run is the run's alone, so it keeps the namespace."""
        if self.bootstrap is None or "namespace" in self.model_fields_set:
            return self
        return self.but(namespace=f"xsettle-{uuid.uuid4().hex[:8]}")

    def on_embedded(self, bootstrap: str, partitions: int = EMBEDDED_PARTITIONS) -> "Settings":
        """These settings for an embedded Tansu at ``bootstrap``: embedded, and with
        ``partitions`` (the embedded broker's own default: :data:`EMBEDDED_PARTITIONS`)
        where the environment set none."""
        changes: dict[str, Any] = {"bootstrap": bootstrap, "embedded": True}
        if "partitions" not in self.model_fields_set:
            changes["partitions"] = partitions
        return self.but(**changes)

    def require_bootstrap(self, who: str = "a worker") -> str:
        """The bootstrap servers, or a one-line error when none are configured."""
        if not self.bootstrap:
            raise XsettleError(f"KAFKA_BOOTSTRAP_SERVERS is not set: {who} needs a broker")
        return self.bootstrap

    def environ(self) -> dict[str, str]:
        """These settings as environment variables (unset ones left out)."""
        env = {}
        for name, variable in VARIABLES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool):
                value = int(value)
            elif isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[variable] = str(value)
        return env

    def child_environ(self) -> dict[str, str]:
        """The environment of a child process that runs with exactly these settings:
        ours, with every settings variable taken from this object."""
        return {**inherited_environ(drop=VARIABLES.values()), **self.environ()}


VARIABLES: dict[str, str] = {
    name: str(field.validation_alias) for name, field in Settings.model_fields.items()
}
"""Each setting's environment variable, by field name."""


def inherited_environ(drop: Iterable[str] = ()) -> dict[str, str]:
    """The environment a child process inherits from us, less the variables ``drop``."""
    dropped = set(drop)
    return {key: value for key, value in os.environ.items() if key not in dropped}


def _one_line(error: ValidationError) -> str:
    """A validation error as one line naming the variable and its value."""
    first = error.errors()[0]
    where = str(first["loc"][0]) if first["loc"] else "settings"
    variable = VARIABLES.get(where, where)
    shown = "***" if variable in _SECRET else repr(first.get("input"))
    message = first["msg"][:1].lower() + first["msg"][1:]
    return f"{variable}={shown}: {message}"


def _variable(field: str) -> str:
    """The environment variable that sets ``field``."""
    return str(Settings.model_fields[field].validation_alias)
