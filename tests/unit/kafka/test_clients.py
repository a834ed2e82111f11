"""ingest/broker/clients.py: per client library, TLS and SASL exactly as the settings say.

No SASL-capable broker can be had here, so SASL is checked on what each library is handed
(and, for aiokafka and faust, on what they make of it); TLS is also proven by a handshake
in memory against a server that demands the client certificate.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from faust.types.auth import AuthProtocol

from ingest.broker.clients import (
    aiokafka_consumer_config,
    aiokafka_producer,
    faust_broker_settings,
    faust_credentials,
    kafka_consumer,
    kafka_producer,
    kafka_python_config,
    security_options,
    ssl_context,
)
from schemas.settings import KafkaSettings, Settings
from stream.worker.app import faust_settings
from tests.certs import KEY_PASSWORD, Certs, make_certs

# A version given up front keeps kafka-python from contacting the (absent) broker when built.
NO_BROKER = {"api_version": (2, 8)}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def sasl_ssl(certs: Certs) -> KafkaSettings:
    return KafkaSettings(
        bootstrap="127.0.0.1:1",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="cw",
        sasl_password="pw",  # type: ignore[arg-type]
        ssl_cafile=certs.ca,
    )


def mutual_tls(certs: Certs) -> KafkaSettings:
    return KafkaSettings(
        bootstrap="127.0.0.1:1",
        security_protocol="SSL",
        ssl_cafile=certs.ca,
        ssl_certfile=certs.client_cert,
        ssl_keyfile=certs.client_key,
        ssl_password=KEY_PASSWORD,  # type: ignore[arg-type]
    )


def assert_verifying_tls(context: Any) -> None:
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def assert_sasl(config: dict[str, Any]) -> None:
    assert config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert config["sasl_plain_username"] == "cw"
    assert config["sasl_plain_password"] == "pw"


def handshake(client: ssl.SSLContext, certs: Certs, hostname: str = "127.0.0.1") -> Any:
    """TLS between ``client`` and a server that requires a client certificate from the test
    CA, in memory; returns the client certificate the server verified."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certs.server_cert, certs.server_key)
    server.load_verify_locations(certs.ca)
    server.verify_mode = ssl.CERT_REQUIRED
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_end = client.wrap_bio(to_client, to_server, server_hostname=hostname)
    server_end = server.wrap_bio(to_server, to_client, server_side=True)
    done: set[str] = set()
    for _ in range(10):
        for name, end in (("client", client_end), ("server", server_end)):
            try:
                end.do_handshake()
                done.add(name)
            except ssl.SSLWantReadError:
                pass
        if done == {"client", "server"}:
            return server_end.getpeercert()
    raise AssertionError("the handshake did not finish")


# -- SASL_SSL: TLS plus the mechanism and credentials, never plaintext ---------------------------
def test_sasl_ssl_with_kafka_python(certs: Certs) -> None:
    kafka = sasl_ssl(certs)
    config = kafka_python_config(kafka)
    assert config["security_protocol"] == "SASL_SSL"
    assert_verifying_tls(config["ssl_context"])
    assert_sasl(config)
    # the library keeps what it was given
    consumer = kafka_consumer(kafka, **NO_BROKER)
    producer = kafka_producer(kafka, **NO_BROKER)
    try:
        for client in (consumer, producer):
            assert client.config["security_protocol"] == "SASL_SSL"
            assert_verifying_tls(client.config["ssl_context"])
            assert_sasl(client.config)
    finally:
        consumer.close()
        producer.close(timeout=1)


def test_sasl_ssl_with_aiokafka(certs: Certs) -> None:
    from aiokafka import AIOKafkaConsumer

    kafka = sasl_ssl(certs)

    async def built() -> list[Any]:
        consumer = AIOKafkaConsumer(**aiokafka_consumer_config(kafka, group_id="g"))
        producer = aiokafka_producer(kafka, acks="all")
        clients = [consumer._client, producer.client]
        await consumer.stop()
        await producer.stop()
        return clients

    for client in asyncio.run(built()):
        assert client._security_protocol == "SASL_SSL"
        assert_verifying_tls(client._ssl_context)
        assert client._sasl_mechanism == "SCRAM-SHA-512"
        assert (client._sasl_plain_username, client._sasl_plain_password) == ("cw", "pw")


def test_sasl_ssl_with_faust(certs: Certs) -> None:
    credentials = faust_credentials(sasl_ssl(certs))
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol == AuthProtocol.SASL_SSL
    # what faust's own consumers and producers are built with
    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert_verifying_tls(auth["ssl_context"])
    assert_sasl(auth)
    # and the worker's app settings carry them
    settings = Settings(kafka=sasl_ssl(certs))
    assert isinstance(faust_settings(settings)["broker_credentials"], faust.SASLCredentials)


def test_sasl_plaintext_has_credentials_and_no_tls() -> None:
    kafka = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username="cw",
        sasl_password="pw",  # type: ignore[arg-type]
    )
    assert "ssl_context" not in security_options(kafka)
    assert security_options(kafka)["sasl_mechanism"] == "PLAIN"
    credentials = faust_credentials(kafka)
    assert credentials.protocol == AuthProtocol.SASL_PLAINTEXT
    assert credentials.ssl_context is None


# -- SSL: TLS with the CA, certificate and key given ----------------------------------------------
def test_ssl_context_trusts_the_ca_and_presents_the_client_certificate(certs: Certs) -> None:
    context = ssl_context(mutual_tls(certs))
    assert context is not None
    assert_verifying_tls(context)
    assert [dict(x[0] for x in ca["subject"]) for ca in context.get_ca_certs()] == [
        {"commonName": "customs-watch test CA"}
    ]
    client_cert = handshake(context, certs)
    assert dict(x[0] for x in client_cert["subject"]) == {"commonName": "customs-watch client"}


def test_ssl_without_the_ca_refuses_the_server_and_a_wrong_host_name_too(certs: Certs) -> None:
    system_cas = mutual_tls(certs).model_copy(update={"ssl_cafile": None})
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(ssl_context(system_cas), certs)  # type: ignore[arg-type]
    strict = ssl_context(mutual_tls(certs))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(strict, certs, hostname="broker.example")  # type: ignore[arg-type]
    lenient = mutual_tls(certs).model_copy(update={"ssl_check_hostname": False})
    context = ssl_context(lenient)
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED
    handshake(context, certs, hostname="broker.example")


def test_ssl_in_every_library(certs: Certs) -> None:
    kafka = mutual_tls(certs)
    for config in (kafka_python_config(kafka), aiokafka_consumer_config(kafka)):
        assert config["security_protocol"] == "SSL"
        assert_verifying_tls(config["ssl_context"])
        assert not any(key.startswith("sasl_") for key in config)
    credentials = faust_broker_settings(kafka)["broker_credentials"]
    assert isinstance(credentials, faust.SSLCredentials)
    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SSL"
    assert_verifying_tls(auth["ssl_context"])


# -- PLAINTEXT: neither ---------------------------------------------------------------------------
def test_plaintext_has_no_tls_and_no_sasl() -> None:
    kafka = KafkaSettings(bootstrap="k1:9092,k2:9092")
    assert ssl_context(kafka) is None
    assert security_options(kafka) == {"security_protocol": "PLAINTEXT"}
    for config in (kafka_python_config(kafka), aiokafka_consumer_config(kafka)):
        assert config["security_protocol"] == "PLAINTEXT"
        assert config["bootstrap_servers"] == ["k1:9092", "k2:9092"]
        assert not any(key.startswith(("ssl_", "sasl_")) for key in config)
    assert faust_credentials(kafka) is None
    assert faust_broker_settings(kafka) == {
        "broker": ["kafka://k1:9092", "kafka://k2:9092"],
        "broker_client_id": "customs-watch",
    }


def test_callers_tune_clients_but_cannot_override_security(certs: Certs) -> None:
    kafka = sasl_ssl(certs)
    config = kafka_python_config(kafka, client_id="cw-sink", acks="all")
    assert (config["client_id"], config["acks"]) == ("cw-sink", "all")
    with pytest.raises(TypeError, match="security_protocol"):
        kafka_python_config(kafka, security_protocol="PLAINTEXT")
    with pytest.raises(TypeError, match="ssl_context"):
        aiokafka_consumer_config(kafka, ssl_context=None)


def test_cert_paths_are_read_as_given(certs: Certs, tmp_path: Path) -> None:
    missing = mutual_tls(certs).model_copy(update={"ssl_cafile": tmp_path / "nope.pem"})
    with pytest.raises(FileNotFoundError):
        ssl_context(missing)
