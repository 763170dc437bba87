"""Connection security for a real cluster (SASL and/or TLS), from the settings.

One rule for every client: the faust services get ``broker_credentials``; the
kafka-python clients (topic creation, the CLI, tests) get the same settings as kwargs.
The variables (``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*``, ``KAFKA_SSL_*``) are read
and checked by :class:`~xsettle.settings.Settings`, like every other.
"""

import ssl
from dataclasses import dataclass
from typing import Any

import faust

from ...settings import Settings


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
        """The environment's security settings (read by :class:`Settings`)."""
        return cls.from_settings(Settings())

    @classmethod
    def from_settings(cls, settings: Settings) -> "Security":
        password = settings.sasl_password
        return cls(
            protocol=settings.security_protocol,
            sasl_mechanism=settings.sasl_mechanism,
            username=settings.sasl_username,
            password=password.get_secret_value() if password is not None else None,
            cafile=settings.ssl_cafile,
            certfile=settings.ssl_certfile,
            keyfile=settings.ssl_keyfile,
        )

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL")

    @property
    def tls(self) -> bool:
        return self.protocol.endswith("SSL")

    def client_options(self) -> dict[str, Any]:
        """kwargs for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        options = self._sasl_options()
        if self.tls:
            options.update(
                ssl_cafile=self.cafile, ssl_certfile=self.certfile, ssl_keyfile=self.keyfile
            )
        return options

    def aiokafka_options(self) -> dict[str, Any]:
        """kwargs for aiokafka's clients (TLS as an SSL context, not file names)."""
        options = self._sasl_options()
        if self.tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def _sasl_options(self) -> dict[str, Any]:
        """The protocol and, on a SASL connection, the mechanism and credentials."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            options.update(
                sasl_mechanism=self.sasl_mechanism or "PLAIN",
                sasl_plain_username=self.username,
                sasl_plain_password=self.password,
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


def client_options(settings: Settings | None = None) -> dict[str, Any]:
    """The security settings (the environment's unless given) as kafka-python kwargs."""
    return Security.from_settings(settings or Settings()).client_options()
