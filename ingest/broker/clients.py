"""Every Kafka client of the project is built here, from the one ``KafkaSettings``.

kafka-python (connectors, topic admin, topic readers, alert consumers), aiokafka (the sink)
and faust (the worker) spell the same options differently. Building them all in one place
keeps TLS and SASL identical everywhere: ``SSL`` and ``SASL_SSL`` always get an
``ssl.SSLContext`` made by :func:`ssl_context` (CA, client certificate, host-name check),
``SASL_*`` always the mechanism and credentials, and ``PLAINTEXT`` neither. Callers add
their own tuning (group, fetch sizes, acks) as keyword overrides, but never security options.

aiokafka and faust are imported inside the functions that need them, so a connector does not
load the stream's libraries.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from schemas.settings import KafkaSettings

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

# What only the settings decide: a caller's override never turns TLS or SASL off.
SECURITY_KEYS = frozenset(
    {
        "security_protocol",
        "ssl_context",
        "sasl_mechanism",
        "sasl_plain_username",
        "sasl_plain_password",
    }
)


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context of ``SSL`` and ``SASL_SSL`` connections; None for the others.

    Certificates are always verified (against ``ssl_cafile``, else the system's CAs); only
    the host-name check can be turned off."""
    if not kafka.tls:
        return None
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None
    )
    context.check_hostname = kafka.ssl_check_hostname
    if kafka.ssl_certfile is not None:
        context.load_cert_chain(
            certfile=kafka.ssl_certfile,
            keyfile=kafka.ssl_keyfile,
            password=kafka.ssl_password.get_secret_value() if kafka.ssl_password else None,
        )
    return context


def security_options(kafka: KafkaSettings) -> dict[str, Any]:
    """``security_protocol``, ``ssl_context`` and ``sasl_*``: the same keys in kafka-python
    and aiokafka."""
    options: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    context = ssl_context(kafka)
    if context is not None:
        options["ssl_context"] = context
    if kafka.sasl:
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = (
            kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        )
    return options


def _options(kafka: KafkaSettings, overrides: dict[str, Any], **base: Any) -> dict[str, Any]:
    refused = SECURITY_KEYS & overrides.keys()
    if refused:
        raise TypeError(f"{', '.join(sorted(refused))} come(s) from KafkaSettings only")
    return {
        "bootstrap_servers": kafka.bootstrap_servers(),
        "client_id": kafka.client_id,
        **base,
        **security_options(kafka),
        **overrides,
    }


# -- kafka-python: connectors, topic admin, readers, alert consumers ---------------------------
def kafka_python_config(kafka: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a kafka-python client: connection, security, then ``overrides``."""
    return _options(kafka, overrides, request_timeout_ms=kafka.request_timeout_ms)


def kafka_producer(kafka: KafkaSettings, **overrides: Any) -> KafkaProducer:
    return KafkaProducer(**kafka_python_config(kafka, **overrides))


def kafka_consumer(kafka: KafkaSettings, *topics: str, **overrides: Any) -> KafkaConsumer:
    """A consumer subscribed to ``topics`` (none: assign partitions yourself)."""
    return KafkaConsumer(*topics, **kafka_python_config(kafka, **overrides))


def kafka_admin(kafka: KafkaSettings, **overrides: Any) -> KafkaAdminClient:
    return KafkaAdminClient(**kafka_python_config(kafka, **overrides))


# -- aiokafka: the sink ------------------------------------------------------------------------
def aiokafka_consumer_config(kafka: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of an ``AIOKafkaConsumer`` (the sink builds it through a factory
    that tests may replace)."""
    return _options(kafka, overrides, request_timeout_ms=kafka.request_timeout_ms)


def aiokafka_producer(kafka: KafkaSettings, **overrides: Any) -> AIOKafkaProducer:
    """Left at aiokafka's own request timeout (40 s), as the sink's producer always was."""
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(**_options(kafka, overrides))


# -- faust: the worker -------------------------------------------------------------------------
def faust_credentials(kafka: KafkaSettings) -> Any:
    """``broker_credentials`` for faust, or None for ``PLAINTEXT``.

    faust derives the security protocol from the credentials: ``SASLCredentials`` without an
    SSL context means ``SASL_PLAINTEXT``, so ``SASL_SSL`` must pass the context."""
    import faust

    context = ssl_context(kafka)
    if kafka.sasl:
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else None,
            mechanism=kafka.sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def faust_broker_settings(kafka: KafkaSettings) -> dict[str, Any]:
    """The ``faust.App`` settings that say where the brokers are and how to connect."""
    settings: dict[str, Any] = {
        "broker": [f"kafka://{server}" for server in kafka.bootstrap_servers()],
        "broker_client_id": kafka.client_id,
    }
    credentials = faust_credentials(kafka)
    if credentials is not None:
        settings["broker_credentials"] = credentials
    return settings
