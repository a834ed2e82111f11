"""Deliver alerts to an HTTP endpoint, signed, with retries and a record of failures.

Each alert is POSTed as JSON with headers ``X-Customs-Watch-Alert-Id``,
``X-Customs-Watch-Timestamp`` (Unix seconds) and, when a secret is set,
``X-Customs-Watch-Signature: sha256=<hex>``: the HMAC-SHA256 of ``<timestamp>.<body>`` with
the secret, so a receiver can check both origin and freshness: :func:`verify` accepts a
timestamp at most ``TOLERANCE_S`` (300 s) from its own clock, either way, so a captured
request cannot be replayed later. Connection errors, timeouts, 429 and 5xx answers are
retried with exponential backoff; other 4xx answers are not, and a redirect (3xx) is not
followed: it is a failure, not a delivery. One alert's attempts and waits together take at
most ``RetryPolicy.budget_s``, so an endpoint that is down costs that per alert, and the
consumer asks for few enough alerts per poll to stay within ``max.poll.interval``.
Delivery is at least once: a receiver drops repeats by alert id. An alert that could not
be delivered is appended to a failure log (JSON lines) and the next one is sent. The URL
is written to logs and the failure log without credentials or query (they often carry a
token).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ingest.http_safety import redacted
from schemas.alert import Alert

log = logging.getLogger("customs_watch.alerts")

SIGNATURE_HEADER = "X-Customs-Watch-Signature"
TIMESTAMP_HEADER = "X-Customs-Watch-Timestamp"
ALERT_ID_HEADER = "X-Customs-Watch-Alert-Id"
TOLERANCE_S = 300
"""How far a signed timestamp may be from the receiver's clock (either way)."""
MAX_POLL_INTERVAL_S = 300
"""The webhook consumer's max.poll.interval: the alerts of one poll are delivered within it."""


def sign(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    body: bytes,
    secret: str,
    timestamp: int,
    signature: str,
    tolerance_s: float = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """What a receiver does (also used by the tests): the signature matches and the signed
    timestamp is within ``tolerance_s`` of ``now`` (default: this clock), so an old request
    replayed, or one dated in the future, is refused. Receivers also drop repeated alert ids."""
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(body, secret, timestamp), signature)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer stays an error: urllib would re-send the POST as an empty GET."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    timeout_s: float = 5.0
    budget_s: float = 20.0  # every attempt and wait of one alert together

    def alerts_per_poll(self) -> int:
        """Alerts one consumer poll may hand over: all of them undeliverable still take
        less than half of ``MAX_POLL_INTERVAL_S``."""
        return max(1, int(MAX_POLL_INTERVAL_S / 2 // self.budget_s))

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
    deadline = time.monotonic() + policy.budget_s
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
        timeout = min(policy.timeout_s, deadline - time.monotonic())
        try:
            with _OPENER.open(request, timeout=max(timeout, 0.001)) as response:
                outcome.status = response.status
                outcome.delivered = True
                return outcome
        except urllib.error.HTTPError as exc:
            outcome.status = exc.code
            redirected = 300 <= exc.code < 400
            outcome.errors.append(f"HTTP {exc.code}" + (" (redirect not followed)" * redirected))
            if not _retriable(exc.code):
                return outcome
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            outcome.status = None
            outcome.errors.append(str(getattr(exc, "reason", exc)))
        wait = policy.delay(attempt)
        if attempt == policy.attempts or time.monotonic() + wait >= deadline:
            break
        sleep(wait)
    return outcome


def record_failure(
    failures: Path, url: str, alert: Alert, outcome: Delivery, now: datetime | None = None
) -> None:
    """Append the undelivered ``alert`` and how its delivery ended to ``failures``."""
    failures.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "at": (now or datetime.now(UTC)).isoformat(),
        "url": redacted(url),
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
        extra={"alert_id": alert.alert_id, "status": outcome.status, "url": redacted(url)},
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
