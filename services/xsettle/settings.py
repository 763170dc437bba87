"""Runtime settings, all from the environment so containers and tests configure alike."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import XsettleError

GUARANTEES = ("at_least_once", "exactly_once")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise XsettleError(f"{name}={raw!r} is not an integer") from None


@dataclass(frozen=True)
class Settings:
    bootstrap: str
    """Kafka bootstrap servers, host:port[,host:port]."""
    embedded: bool = True
    """Running on the embedded Tansu broker: short sessions, no transactions."""
    namespace: str = field(default_factory=lambda: os.environ.get("XSETTLE_NAMESPACE", "xsettle"))
    """Prefix of consumer groups and internal topics (not of the public topics)."""
    partitions: int = field(default_factory=lambda: _env_int("XSETTLE_PARTITIONS", 8))
    reference: Path | None = field(
        default_factory=lambda: Path(p) if (p := os.environ.get("XSETTLE_REFERENCE")) else None
    )
    """Policies, catalogs and persons the services load (a scenario without events)."""
    processing_guarantee: str = field(
        default_factory=lambda: os.environ.get("XSETTLE_PROCESSING_GUARANTEE", "at_least_once")
    )
    store: str = field(default_factory=lambda: os.environ.get("XSETTLE_TABLE_STORE", "memory://"))
    web_port: int = field(default_factory=lambda: _env_int("XSETTLE_WEB_PORT", 0))
    """Port of a service's own web endpoint (0: pick a free one)."""

    def __post_init__(self) -> None:
        if self.processing_guarantee not in GUARANTEES:
            raise XsettleError(
                f"XSETTLE_PROCESSING_GUARANTEE={self.processing_guarantee!r}: must be one of "
                + ", ".join(GUARANTEES)
            )
        if self.processing_guarantee == "exactly_once" and self.embedded:
            raise XsettleError(
                "XSETTLE_PROCESSING_GUARANTEE=exactly_once needs Kafka transactions, which the "
                "embedded broker lacks; use at_least_once or set KAFKA_BOOTSTRAP_SERVERS"
            )
        if not self.store.startswith(("memory://", "rocksdb://")):
            raise XsettleError(f"XSETTLE_TABLE_STORE={self.store!r}: use memory:// or rocksdb://")

    @classmethod
    def from_env(cls) -> "Settings":
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            raise XsettleError("KAFKA_BOOTSTRAP_SERVERS is not set: a worker needs a broker")
        embedded = os.environ.get("XSETTLE_EMBEDDED_BROKER", "0") == "1"
        return cls(bootstrap=bootstrap, embedded=embedded)

    def environ(self) -> dict[str, str]:
        """These settings as environment variables, to hand to a worker process."""
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "XSETTLE_EMBEDDED_BROKER": "1" if self.embedded else "0",
            "XSETTLE_NAMESPACE": self.namespace,
            "XSETTLE_PARTITIONS": str(self.partitions),
            "XSETTLE_PROCESSING_GUARANTEE": self.processing_guarantee,
            "XSETTLE_TABLE_STORE": self.store,
            "XSETTLE_WEB_PORT": str(self.web_port),
        }
        if self.reference is not None:
            env["XSETTLE_REFERENCE"] = str(self.reference)
        return env
