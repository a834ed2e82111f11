import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import orjson
import pytest

from ingest.http_safety import redacted
from schemas.alert import Alert, LineKey, Party
from stream.alerts.tail import AlertFilter, format_alert
from stream.alerts.webhook import (
    ALERT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Delivery,
    RetryPolicy,
    deliver,
    forward,
    record_failure,
    sign,
    verify,
)


class Receiver(HTTPServer):
    """Answers with the next status of ``script`` (then 200) and keeps what it got."""

    def __init__(self, script: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = list(script)
        self.received: list[tuple[dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        status = self.server.script.pop(0) if self.server.script else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.server.received.append((dict(self.headers), b"GET"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    server = Receiver(getattr(request, "param", []))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


FAST = RetryPolicy(attempts=4, first_delay_s=0.01, max_delay_s=0.02, timeout_s=2)


def test_verify_refuses_a_timestamp_outside_the_tolerance() -> None:
    body, secret, signed_at = b"{}", "s3cret", 1_700_000_000
    signature = sign(body, secret, signed_at)
    assert verify(body, secret, signed_at, signature, now=signed_at + 299)
    assert verify(body, secret, signed_at, signature, now=signed_at - 299)
    assert not verify(body, secret, signed_at, signature, now=signed_at + 301), "a replay"
    assert not verify(body, secret, signed_at, signature, now=signed_at - 301), "the future"
    assert verify(body, secret, signed_at, signature, tolerance_s=3600, now=signed_at + 3000)


@pytest.mark.parametrize("receiver", [[302], [301], [303], [307]], indirect=True)
def test_a_redirect_is_a_failure_not_a_delivery(receiver: Receiver) -> None:
    outcome = deliver(receiver.url, "r1", b"{}", None, FAST, sleep=lambda _: None)
    assert not outcome.delivered and outcome.attempts == 1
    assert outcome.status in (301, 302, 303, 307)
    assert "redirect not followed" in outcome.errors[0]
    assert [body for _, body in receiver.received] == [b"{}"], "no GET to the new address"


class Silent(HTTPServer):
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), BaseHTTPRequestHandler)


def test_one_alert_costs_at_most_its_budget_against_a_silent_endpoint() -> None:
    with Silent() as silent:  # listening, never accepting: every attempt times out
        url = f"http://127.0.0.1:{silent.server_address[1]}/hook"
        policy = RetryPolicy(attempts=6, first_delay_s=0.2, timeout_s=5, budget_s=1.5)
        started = time.monotonic()
        outcome = deliver(url, "slow", b"{}", None, policy)
        assert not outcome.delivered
        assert time.monotonic() - started < 2.5


def test_alerts_per_poll_fit_the_poll_interval() -> None:
    assert RetryPolicy(budget_s=20).alerts_per_poll() == 7
    assert RetryPolicy(budget_s=600).alerts_per_poll() == 1
    for budget in (1, 5, 20, 75):
        policy = RetryPolicy(budget_s=budget)
        assert policy.alerts_per_poll() * budget <= 150


def test_urls_keep_no_credentials_or_query_in_logs_and_failures(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = "https://user:pw@hooks.test:8443/services/T0/B1?token=abc"
    assert redacted(url) == "https://hooks.test:8443/services/T0/B1?…"
    failures = tmp_path / "failures.jsonl"
    with caplog.at_level(logging.ERROR, logger="customs_watch.alerts"):
        record_failure(failures, url, alert(), Delivery("x", delivered=False, attempts=1))
    written = failures.read_text() + " ".join(str(r.__dict__) for r in caplog.records)
    assert "abc" not in written and "pw" not in written and "user" not in written
    assert "hooks.test:8443/services/T0/B1" in failures.read_text()


def test_signed_delivery_a_receiver_can_verify(receiver: Receiver) -> None:
    outcome = deliver(receiver.url, "a1", b'{"rule": "x"}', "s3cret", FAST)
    assert outcome.delivered and outcome.attempts == 1 and outcome.status == 200
    headers, body = receiver.received[0]
    assert headers[ALERT_ID_HEADER] == "a1"
    timestamp = int(headers[TIMESTAMP_HEADER])
    assert verify(body, "s3cret", timestamp, headers[SIGNATURE_HEADER])
    assert not verify(body, "other", timestamp, headers[SIGNATURE_HEADER])
    assert not verify(body + b" ", "s3cret", timestamp, headers[SIGNATURE_HEADER])


@pytest.mark.parametrize("receiver", [[503, 429]], indirect=True)
def test_server_errors_are_retried_with_backoff(receiver: Receiver) -> None:
    delays: list[float] = []
    outcome = deliver(receiver.url, "a2", b"{}", None, FAST, sleep=delays.append)
    assert outcome.delivered and outcome.attempts == 3
    assert outcome.errors == ["HTTP 503", "HTTP 429"]
    assert delays == [0.01, 0.02]
    assert SIGNATURE_HEADER not in receiver.received[0][0]


@pytest.mark.parametrize("receiver", [[400]], indirect=True)
def test_a_client_error_is_not_retried(receiver: Receiver) -> None:
    outcome = deliver(receiver.url, "a3", b"{}", None, FAST, sleep=lambda _: None)
    assert not outcome.delivered and outcome.attempts == 1 and outcome.status == 400


def test_an_unreachable_endpoint_fails_after_every_attempt() -> None:
    with HTTPServer(("127.0.0.1", 0), Handler) as closed:
        url = f"http://127.0.0.1:{closed.server_address[1]}/"
    outcome = deliver(url, "a4", b"{}", None, FAST, sleep=lambda _: None)
    assert not outcome.delivered and outcome.attempts == FAST.attempts
    assert len(outcome.errors) == FAST.attempts


def alert(**changes: object) -> Alert:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    base: dict[str, object] = {
        "alert_id": "x",
        "rule": "battlefield_goods_to_high_risk",
        "severity": "high",
        "score": 0.8,
        "reason": "body_armor bound for HK",
        "lines": [LineKey(declaration_id="D1", line_no=1)],
        "parties": [Party(role="importer", name="Brightway", country="HK")],
        "destination_country": "HK",
        "first_seen": now,
        "last_seen": now,
    }
    return Alert.model_validate({**base, **changes})


def test_filters_by_rule_minimum_severity_and_country() -> None:
    assert AlertFilter().matches(alert())
    assert not AlertFilter(rules=frozenset({"transshipment"})).matches(alert())
    assert AlertFilter(min_severity="high").matches(alert())
    assert not AlertFilter(min_severity="critical").matches(alert())
    assert AlertFilter(countries=frozenset({"HK"})).matches(alert(destination_country="RU"))
    assert not AlertFilter(countries=frozenset({"AE"})).matches(alert())


def test_one_line_per_alert_for_people() -> None:
    text = format_alert(alert())
    assert "\n" not in text
    assert "HIGH" in text and "battlefield_goods_to_high_risk" in text and "D1:1" in text


def test_forward_records_each_failure_and_stops_after_max(tmp_path: Path) -> None:
    failures = tmp_path / "data" / "failures.jsonl"
    sent: list[str] = []

    def send(
        url: str, alert_id: str, body: bytes, secret: str | None, policy: RetryPolicy
    ) -> Delivery:
        sent.append(alert_id)
        if alert_id == "bad":
            return Delivery(alert_id, delivered=False, attempts=4, status=503, errors=["HTTP 503"])
        return Delivery(alert_id, delivered=True, attempts=1, status=200)

    alerts = iter([alert(alert_id="ok"), alert(alert_id="bad"), alert(alert_id="late")])
    counts = forward(alerts, "http://x/hook", None, FAST, failures, max_alerts=2, send=send)
    assert (counts.delivered, counts.failed) == (1, 1)
    assert sent == ["ok", "bad"]
    assert next(alerts).alert_id == "late", "the alert after the last one is not asked for"
    (entry,) = (orjson.loads(line) for line in failures.read_bytes().splitlines())
    assert (entry["url"], entry["alert_id"], entry["status"], entry["attempts"]) == (
        "http://x/hook",
        "bad",
        503,
        4,
    )
    assert entry["errors"] == ["HTTP 503"] and entry["alert"]["alert_id"] == "bad"


def test_a_failure_is_appended_with_its_time(tmp_path: Path) -> None:
    failures = tmp_path / "failures.jsonl"
    outcome = Delivery("a", delivered=False, attempts=1, status=400)
    at = datetime(2024, 5, 2, 8, 30, tzinfo=UTC)
    record_failure(failures, "http://x/", alert(alert_id="a"), outcome, now=at)
    record_failure(failures, "http://x/", alert(alert_id="b"), outcome, now=at)
    entries = [orjson.loads(line) for line in failures.read_bytes().splitlines()]
    assert [e["alert_id"] for e in entries] == ["a", "b"]
    assert entries[0]["at"] == "2024-05-02T08:30:00+00:00"
