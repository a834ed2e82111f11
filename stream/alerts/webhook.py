"""Deliver alerts to an HTTP endpoint, signed, with retries and a record of failures.

Each alert is POSTed as JSON with headers ``X-Customs-Watch-Alert-Id``,
``X-Customs-Watch-Timestamp`` (Unix seconds) and, when a secret is set,
``X-Customs-Watch-Signature: sha256=<hex>``: the HMAC-SHA256 of ``<timestamp>.<body>`` with
the secret, so a receiver can check both origin and freshness. Connection errors, timeouts,
429 and 5xx answers are retried with exponential backoff; other 4xx answers are not.
Delivery is at least once: a receiver drops repeats by alert id.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

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
