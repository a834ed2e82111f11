from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.settings import KafkaSettings, Settings


def test_defaults_point_at_local_broker_and_embedded_clickhouse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("CUSTOMS_WATCH_KAFKA_BOOTSTRAP", "CUSTOMS_WATCH_CLICKHOUSE_DSN"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.kafka.bootstrap == "127.0.0.1:9092"
    assert settings.clickhouse.embedded
    assert settings.topics.declarations == "customs.declarations"
    assert settings.topics.raw("ru-fts") == "customs.raw.ru-fts"


def test_env_vars_fill_nested_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SESSION_TIMEOUT_MS", "45000")
    monkeypatch.setenv("CUSTOMS_WATCH_TOPICS_SOURCES", "ru-fts, cn-customs")
    monkeypatch.setenv("CUSTOMS_WATCH_TOPICS_PREFIX", "acme")
    monkeypatch.setenv("CUSTOMS_WATCH_CLICKHOUSE_DSN", "http://bi:s3cret@ch:8123/cw")
    settings = Settings()
    assert settings.kafka.bootstrap_servers() == ["k1:9092", "k2:9092"]
    assert settings.kafka.session_timeout_ms == 45000
    assert settings.topics.sources == ["ru-fts", "cn-customs"]
    assert settings.topics.all_names()[:2] == ["acme.raw.ru-fts", "acme.raw.cn-customs"]
    assert not settings.clickhouse.embedded
    assert settings.clickhouse.embedded_path() is None


def test_init_overrides_win_over_env_and_keep_other_env_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_BOOTSTRAP", "from-env:9092")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_CLIENT_ID", "env-client")
    settings = Settings(kafka={"bootstrap": "from-flag:9092"})
    assert settings.kafka.bootstrap == "from-flag:9092"
    assert settings.kafka.client_id == "env-client"


def test_secrets_never_appear_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMS_WATCH_CLICKHOUSE_DSN", "http://bi:s3cret@ch:8123/cw")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SASL_USERNAME", "cw")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SASL_PASSWORD", "hunter2")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SSL_PASSWORD", "keypass")
    settings = Settings()
    text = repr(settings) + str(settings)
    assert "s3cret" not in text
    assert "hunter2" not in text
    assert "keypass" not in text


def test_tls_and_sasl_settings_come_from_the_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SASL_USERNAME", "cw")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SASL_PASSWORD", "pw")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SSL_CAFILE", "/etc/kafka/ca.pem")
    monkeypatch.setenv("CUSTOMS_WATCH_KAFKA_SSL_CHECK_HOSTNAME", "false")
    kafka = Settings().kafka
    assert kafka.tls and kafka.sasl
    assert kafka.sasl_mechanism == "SCRAM-SHA-512"
    assert kafka.sasl_password is not None and kafka.sasl_password.get_secret_value() == "pw"
    assert kafka.ssl_cafile == Path("/etc/kafka/ca.pem")
    assert kafka.ssl_check_hostname is False


@pytest.mark.parametrize(
    ("kafka", "refused"),
    [
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN"}, "needs sasl_username"),
        ({"sasl_mechanism": "PLAIN", "sasl_username": "u", "sasl_password": "p"}, "SASL"),
        ({"ssl_cafile": "ca.pem"}, "ssl_cafile set but security_protocol is PLAINTEXT"),
        ({"security_protocol": "SASL_PLAINTEXT", "ssl_cafile": "ca.pem"}, "ssl_cafile"),
        ({"security_protocol": "SSL", "ssl_keyfile": "k.pem"}, "without ssl_certfile"),
    ],
)
def test_security_settings_a_client_would_ignore_are_refused(
    kafka: dict[str, str], refused: str
) -> None:
    with pytest.raises(ValidationError, match=refused):
        KafkaSettings.model_validate(kafka)
