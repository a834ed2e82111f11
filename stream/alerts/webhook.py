"""Deliver alerts to an HTTP endpoint, signed, with retries and a record of failures.

Each alert is POSTed as JSON with headers ``X-Customs-Watch-Alert-Id``,
``X-Customs-Watch-Timestamp`` (Unix seconds) and, when a secret is set,
``X-Customs-Watch-Signature: sha256=<hex>``: the HMAC-SHA256 of ``<timestamp>.<body>`` with
the secret, so a receiver can check both origin and freshness. Connection errors, timeouts,
429 and 5xx answers are retried with exponential backoff; other 4xx answers are not.
Delivery is at least once: a receiver drops repeats by alert id. An alert that could not
be delivered is appended to a failure log (JSON lines) and the next one is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from schemas.alert import Alert

log = logging.getLogger("customs_watch.alerts")

SIGNATURE_HEADER = "X-Customs-Watch-Signature"
TIMESTAMP_HEADER = "X-Customs-Watch-Timestamp"
ALERT_ID_HEADER = "X-Customs-Watch-Alert-Id"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(body: bytes, secret: str, timestamp: int, signature: str) -> bool:
    """What a receiver does (also used by the tests)."""
    return hmac.compare_digest(sign(body, secret, timestamp), signature)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    timeout_s: float = 10.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** (attempt - 1)))


@dataclass
class Delivery:
    """How one alert's delivery ended."""

    alert_id: str
    delivered: bool
    attempts: int
    status: int | None = None
    errors: list[str] = field(default_factory=list)


def _retriable(status: int) -> bool:
    return status == 429 or status >= 500


def deliver(
    url: str,
    alert_id: str,
    body: bytes,
    secret: str | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Delivery:
    policy = policy or RetryPolicy()
    outcome = Delivery(alert_id=alert_id, delivered=False, attempts=0)
    for attempt in range(1, policy.attempts + 1):
        outcome.attempts = attempt
        timestamp = int(clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "customs-watch-webhook",
            ALERT_ID_HEADER: alert_id,
            TIMESTAMP_HEADER: str(timestamp),
        }
        if secret:
            headers[SIGNATURE_HEADER] = sign(body, secret, timestamp)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=policy.timeout_s) as response:
                outcome.status = response.status
                outcome.delivered = True
                return outcome
        except urllib.error.HTTPError as exc:
            outcome.status = exc.code
            outcome.errors.append(f"HTTP {exc.code}")
            if not _retriable(exc.code):
                return outcome
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            outcome.status = None
            outcome.errors.append(str(getattr(exc, "reason", exc)))
        if attempt < policy.attempts:
            sleep(policy.delay(attempt))
    return outcome


def record_failure(
    failures: Path, url: str, alert: Alert, outcome: Delivery, now: datetime | None = None
) -> None:
    """Append the undelivered ``alert`` and how its delivery ended to ``failures``."""
    failures.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "at": (now or datetime.now(UTC)).isoformat(),
        "url": url,
        "alert_id": alert.alert_id,
        "status": outcome.status,
        "attempts": outcome.attempts,
        "errors": outcome.errors,
        "alert": alert.model_dump(mode="json"),
    }
    with failures.open("ab") as handle:
        handle.write(orjson.dumps(entry) + b"\n")
    log.error(
        "webhook delivery failed",
        extra={"alert_id": alert.alert_id, "status": outcome.status, "url": url},
    )


@dataclass(slots=True)
class Forwarded:
    delivered: int = 0
    failed: int = 0


def forward(
    alerts: Iterable[Alert],
    url: str,
    secret: str | None,
    policy: RetryPolicy,
    failures: Path,
    max_alerts: int | None = None,
    send: Callable[[str, str, bytes, str | None, RetryPolicy], Delivery] = deliver,
) -> Forwarded:
    """Deliver each alert in turn, recording those that fail; stops after ``max_alerts``.
    The next alert is only asked for once the previous one is delivered or recorded, so a
    consumer behind ``alerts`` may commit it then."""
    counts = Forwarded()
    for alert in alerts:
        outcome = send(url, alert.alert_id, alert.model_dump_json().encode(), secret, policy)
        if outcome.delivered:
            counts.delivered += 1
        else:
            counts.failed += 1
            record_failure(failures, url, alert, outcome)
        if max_alerts is not None and counts.delivered + counts.failed >= max_alerts:
            break
    return counts
