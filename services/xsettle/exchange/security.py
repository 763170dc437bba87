"""Connection security for a real cluster (SASL and/or TLS), from the environment.

One rule for every client: the faust services get ``broker_credentials``; the
kafka-python clients (topic creation, the CLI, tests) get the same settings as kwargs.

``KAFKA_SECURITY_PROTOCOL``: PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL;
``KAFKA_SASL_MECHANISM`` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), ``KAFKA_SASL_USERNAME``,
``KAFKA_SASL_PASSWORD``; ``KAFKA_SSL_CAFILE``, ``KAFKA_SSL_CERTFILE``, ``KAFKA_SSL_KEYFILE``.
"""

import os
import ssl
from dataclasses import dataclass
from typing import Any

import faust

from ..errors import XsettleError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True)
class Security:
    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = None
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None

    @classmethod
    def from_env(cls) -> "Security":
        env = os.environ
        security = cls(
            protocol=env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper(),
            sasl_mechanism=env.get("KAFKA_SASL_MECHANISM") or None,
            username=env.get("KAFKA_SASL_USERNAME") or None,
            password=env.get("KAFKA_SASL_PASSWORD") or None,
            cafile=env.get("KAFKA_SSL_CAFILE") or None,
            certfile=env.get("KAFKA_SSL_CERTFILE") or None,
            keyfile=env.get("KAFKA_SSL_KEYFILE") or None,
        )
        if security.protocol not in PROTOCOLS:
            raise XsettleError(
                f"KAFKA_SECURITY_PROTOCOL={security.protocol!r}: "
                f"must be one of {', '.join(PROTOCOLS)}"
            )
        if security.sasl and not (security.username and security.password):
            raise XsettleError(
                f"KAFKA_SECURITY_PROTOCOL={security.protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return security

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL")

    @property
    def tls(self) -> bool:
        return self.protocol.endswith("SSL")

    def client_options(self) -> dict[str, Any]:
        """kwargs for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            options.update(
                sasl_mechanism=self.sasl_mechanism or "PLAIN",
                sasl_plain_username=self.username,
                sasl_plain_password=self.password,
            )
        if self.tls:
            options.update(
                ssl_cafile=self.cafile, ssl_certfile=self.certfile, ssl_keyfile=self.keyfile
            )
        return options

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.cafile)
        if self.certfile:
            context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def faust_credentials(self) -> Any:
        """faust's ``broker_credentials``: None on a plaintext connection."""
        if self.sasl:
            return faust.SASLCredentials(
                username=self.username,
                password=self.password,
                mechanism=self.sasl_mechanism or "PLAIN",
                ssl_context=self.ssl_context() if self.tls else None,
            )
        if self.tls:
            return faust.SSLCredentials(self.ssl_context())
        return None


def client_options() -> dict[str, Any]:
    """The environment's security settings as kafka-python kwargs."""
    return Security.from_env().client_options()
