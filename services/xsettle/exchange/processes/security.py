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
    """The settings' connection security in the form each client library takes. It
    holds the settings themselves, so the values and the SASL/TLS rule stay theirs."""

    settings: Settings

    @classmethod
    def from_env(cls) -> "Security":
        """The environment's security settings (read by :class:`Settings`)."""
        return cls(Settings())

    def client_options(self) -> dict[str, Any]:
        """kwargs for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        settings = self.settings
        options = self._sasl_options()
        if settings.tls:
            options.update(
                ssl_cafile=settings.ssl_cafile,
                ssl_certfile=settings.ssl_certfile,
                ssl_keyfile=settings.ssl_keyfile,
            )
        return options

    def aiokafka_options(self) -> dict[str, Any]:
        """kwargs for aiokafka's clients (TLS as an SSL context, not file names)."""
        options = self._sasl_options()
        if self.settings.tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def _sasl_options(self) -> dict[str, Any]:
        """The protocol and, on a SASL connection, the mechanism and credentials."""
        options: dict[str, Any] = {"security_protocol": self.settings.security_protocol}
        if self.settings.sasl:
            options.update(
                sasl_mechanism=self._mechanism(),
                sasl_plain_username=self.settings.sasl_username,
                sasl_plain_password=self._password(),
            )
        return options

    def _mechanism(self) -> str:
        """The SASL mechanism: PLAIN unless the settings name another."""
        return self.settings.sasl_mechanism or "PLAIN"

    def _password(self) -> str | None:
        password = self.settings.sasl_password
        return password.get_secret_value() if password is not None else None

    def ssl_context(self) -> ssl.SSLContext:
        settings = self.settings
        context = ssl.create_default_context(cafile=settings.ssl_cafile)
        if settings.ssl_certfile:
            context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile)
        return context

    def faust_credentials(self) -> Any:
        """faust's ``broker_credentials``: None on a plaintext connection."""
        settings = self.settings
        if settings.sasl:
            return faust.SASLCredentials(
                username=settings.sasl_username,
                password=self._password(),
                mechanism=self._mechanism(),
                ssl_context=self.ssl_context() if settings.tls else None,
            )
        if settings.tls:
            return faust.SSLCredentials(self.ssl_context())
        return None


def client_options(settings: Settings | None = None) -> dict[str, Any]:
    """The security settings (the environment's unless given) as kafka-python kwargs."""
    return Security(settings or Settings()).client_options()
