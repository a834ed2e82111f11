"""Every process of the pipeline through TLS: a TLS endpoint on loopback in front of a broker
that advertises it, and the clients under ``security_protocol=SSL`` with the test CA.

Tansu 0.6 cannot serve TLS itself here (its ``--cert`` and ``--key`` refuse to be given
together), so ``stunnel`` terminates TLS, as a real TLS peer, and forwards to a Tansu of this
module's own whose advertised listener is the TLS port: after the bootstrap, metadata sends
every client back to the TLS port, never to the plaintext one. The worker (faust), the
standalone sink (aiokafka consumer and producer), a connector and ``alerts tail``
(kafka-python) each complete the handshake and move a record.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from deploy.local_broker import tansu_binary
from ingest.broker.clients import kafka_consumer, kafka_producer
from schemas.settings import KafkaSettings
from tests.certs import Certs, make_certs
from tests.services import Pipeline, free_port, wait_for

pytestmark = pytest.mark.integration

ALERTING = {
    "declaration_id": "TLS-0001",
    "line_no": 1,
    "declared_at": "2024-02-12",
    "flow": "export",
    "hs_code": "6211.33.00",
    "description": "Bulletproof vest NIJ IIIA with plate pockets",
    "quantity": 400,
    "unit": "pcs",
    "value": 21200,
    "currency": "USD",
    "origin_country": "CN",
    "destination_country": "RU",
    "exporter_name": "Shandong Protective Equipment Co., Ltd",
    "exporter_country": "CN",
    "importer_name": "OOO Vektor-Snab",
    "importer_country": "RU",
}
ORDINARY = {
    **ALERTING,
    "declaration_id": "TLS-0002",
    "hs_code": "6109.10",
    "description": "Cotton T-shirts",
    "destination_country": "DE",
    "importer_name": "Shirt Shop GmbH",
    "importer_country": "DE",
}
MALFORMED = b'{"declaration_id": "TLS-BAD", "line_no": 1'


@dataclass(frozen=True)
class TlsBroker:
    bootstrap: str  # the TLS port
    certs: Certs
    stunnel_log: Path

    def kafka(self) -> KafkaSettings:
        return KafkaSettings(
            bootstrap=self.bootstrap, security_protocol="SSL", ssl_cafile=self.certs.ca
        )


def stunnel() -> str:
    found = shutil.which("stunnel4") or shutil.which("stunnel")
    assert found, "stunnel is missing: `make venv` installs it (Debian package stunnel4)"
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def answers(kafka: KafkaSettings) -> bool:
    try:
        consumer = kafka_consumer(kafka, bootstrap_timeout_ms=2000)
    except Exception:  # not up yet
        return False
    try:
        return isinstance(consumer.topics(), set)
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    folder = tmp_path_factory.mktemp("tls")
    certs = make_certs(folder / "certs")
    plain, tls = free_port(), free_port()
    with (folder / "tansu.log").open("wb") as log:
        broker = subprocess.Popen(
            [str(tansu_binary()), "broker",
             "--listener-url", f"tcp://127.0.0.1:{plain}",
             "--advertised-listener-url", f"tcp://127.0.0.1:{tls}",
             "--storage-engine", "memory://tansu/"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    config = folder / "stunnel.conf"
    stunnel_log = folder / "stunnel.log"
    config.write_text(
        f"foreground = yes\npid =\ndebug = info\noutput = {stunnel_log}\n\n"
        f"[kafka]\naccept = 127.0.0.1:{tls}\nconnect = 127.0.0.1:{plain}\n"
        f"cert = {certs.server_cert}\nkey = {certs.server_key}\n"
    )
    terminator = subprocess.Popen(
        [stunnel(), str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    endpoint = TlsBroker(f"127.0.0.1:{tls}", certs, stunnel_log)
    try:
        deadline = time.monotonic() + 60
        while not answers(endpoint.kafka()):
            for name, process in (("tansu", broker), ("stunnel", terminator)):
                assert process.poll() is None, f"{name} exited; logs in {folder}"
            assert time.monotonic() < deadline, f"no TLS answer on {endpoint.bootstrap}"
            time.sleep(0.3)
        yield endpoint
    finally:
        stop(terminator)
        stop(broker)


@pytest.fixture(scope="module")
def bootstrap(tls_broker: TlsBroker) -> Iterator[str]:
    """The ``pipeline`` fixture's broker is the TLS endpoint, and every process it starts
    (and its own admin client) connects with SSL and the test CA."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CUSTOMS_WATCH_KAFKA_SECURITY_PROTOCOL", "SSL")
        env.setenv("CUSTOMS_WATCH_KAFKA_SSL_CAFILE", str(tls_broker.certs.ca))
        yield tls_broker.bootstrap


def test_plaintext_is_not_answered_on_the_tls_port(tls_broker: TlsBroker) -> None:
    plaintext = KafkaSettings(bootstrap=tls_broker.bootstrap)
    assert not answers(plaintext)


def test_worker_sink_connector_and_alerts_tail_through_tls(
    pipeline: Pipeline, tls_broker: TlsBroker, tmp_path: Path
) -> None:
    kafka = pipeline.settings.kafka
    assert (kafka.security_protocol, kafka.bootstrap) == ("SSL", tls_broker.bootstrap)

    # the standalone sink next to a worker without one (each needs its own web port)
    pipeline.start_sink_beside_stream_worker()

    # a connector: two lines and one the worker dead-letters (its faust producer)
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(orjson.dumps(ALERTING) + b"\n" + orjson.dumps(ORDINARY) + b"\n" + MALFORMED)
    assert "published=3" in pipeline.cli("ingest", "jsonl", str(feed)).stdout
    # a message the sink cannot decode: it sends the dead letter with its aiokafka producer
    producer = kafka_producer(kafka, acks="all")
    producer.send(pipeline.settings.topics.enriched, key=b"junk", value=b"not an enriched batch")
    producer.flush()
    producer.close()

    def letters() -> list[tuple[str, int]]:
        rows = orjson.loads(
            pipeline.cli("query", "dead_letters_by_reason", "--format", "json").stdout
        )
        return sorted((row["stage"], row["letters"]) for row in rows)

    pipeline.cli("wait", "--timeout", "90")
    totals = orjson.loads(pipeline.cli("query", "line_totals", "--format", "json").stdout)[0]
    assert (totals["lines"], totals["distinct_lines"]) == (2, 2)
    assert totals["alerts"] >= 1
    wait_for(lambda: letters() == [("parse", 1), ("sink", 1)], 30, "both dead letters", pipeline)

    tail = pipeline.cli("alerts", "tail", "--from-beginning", "--json", "--idle-timeout", "4")
    alerts = [orjson.loads(line) for line in tail.stdout.splitlines()]
    assert alerts, f"alerts tail printed nothing:\n{tail.stderr}"
    assert {key["declaration_id"] for a in alerts for key in a["lines"]} == {"TLS-0001"}

    # the TLS endpoint negotiated a session for each connection (several per process)
    log = tls_broker.stunnel_log.read_text(errors="replace")
    assert log.count("TLS accepted: new session negotiated") >= 4, log[-3000:]
