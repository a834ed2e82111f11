"""HTTP poll: fetch new records from a JSON endpoint with a cursor, with retry and backoff.

Each request is ``GET <url>?<cursor_param>=<cursor>`` (no parameter on the very first one).
The answer is a JSON array of records, or an object holding it under ``records``, ``data``
or ``items``. The cursor after a record is its ``cursor_field`` (a since-id or a
since-timestamp). A full page is followed at once by the next; an empty one ends a round.
Every record is published as one canonical line (re-serialised JSON of the element: the
answer's bytes cannot be cut per element), numbered from 1 across the life of the
endpoint. The resume point is the cursor on the last acknowledged batch on the raw topic,
so a poller killed at any point asks again from exactly there.

Transient answers (connection errors, timeouts, 429, 5xx) are retried with capped
exponential backoff, honouring ``Retry-After``; other 4xx answers stop the poller.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ingest.connectors.base import OriginFeed
from ingest.errors import SourceUnavailable
from schemas.raw import RawRecord, payload_checksum

log = logging.getLogger(__name__)
RECORD_KEYS = ("records", "data", "items")


@dataclass(slots=True)
class PollSettings:
    url: str
    cursor_param: str = "since_id"
    cursor_field: str = "id"
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 30.0
    max_backoff_s: float = 60.0
    max_attempts: int = 0  # 0: retry for ever


def records_in(body: bytes) -> list[dict[str, Any]]:
    data = orjson.loads(body)
    if isinstance(data, dict):
        for key in RECORD_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON array of records or an object with {RECORD_KEYS}")
    return [r for r in data if isinstance(r, dict)]


class HttpPoller:
    def __init__(self, poll: PollSettings, source: str, sleep: Callable[[float], None]) -> None:
        self.poll = poll
        self.source = source
        self._sleep = sleep
        self.requests = 0
        self.retries = 0

    def url_for(self, cursor: str | None) -> str:
        if cursor is None:
            return self.poll.url
        parts = urllib.parse.urlsplit(self.poll.url)
        query = urllib.parse.parse_qsl(parts.query)
        query = [(k, v) for k, v in query if k != self.poll.cursor_param]
        query.append((self.poll.cursor_param, cursor))
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def fetch(self, cursor: str | None) -> list[dict[str, Any]]:
        """One page after ``cursor``, retrying transient failures with backoff."""
        delay, attempt = 1.0, 0
        while True:
            attempt += 1
            self.requests += 1
            request = urllib.request.Request(
                self.url_for(cursor), headers={"Accept": "application/json", **self.poll.headers}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.poll.timeout_s) as answer:
                    body = answer.read()
                try:
                    return records_in(body)
                except ValueError as exc:  # the cursor does not move: nothing is skipped
                    raise SourceUnavailable(f"{self.poll.url}: unreadable answer: {exc}") from exc
            except urllib.error.HTTPError as exc:
                if exc.code != 429 and exc.code < 500:
                    message = f"{self.poll.url} answered {exc.code}: {exc.reason}"
                    raise SourceUnavailable(message) from exc
                wait = _retry_after(exc.headers.get("Retry-After")) or delay
                reason = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                wait, reason = delay, str(exc)
            if self.poll.max_attempts and attempt >= self.poll.max_attempts:
                raise SourceUnavailable(f"{self.poll.url}: gave up after {attempt} attempts")
            self.retries += 1
            log.warning("endpoint unavailable, retrying", extra={"reason": reason, "in_s": wait})
            self._sleep(wait)
            delay = min(delay * 2, self.poll.max_backoff_s)

    def records(self, cursor: str | None, position: int) -> Iterator[RawRecord]:
        """Every record after ``cursor``, page after page, until a page comes back empty."""
        while True:
            page = self.fetch(cursor)
            if not page:
                return
            received_at = datetime.now(UTC)
            for item in page:
                position += 1
                payload = orjson.dumps(item)
                value = item.get(self.poll.cursor_field)
                cursor = str(value) if value is not None else cursor
                yield RawRecord(
                    source=self.source,
                    origin=self.poll.url,
                    position=position,
                    payload=payload,
                    checksum=payload_checksum(payload),
                    received_at=received_at,
                )

    def feed(self, records: Iterator[RawRecord]) -> OriginFeed:
        field_name = self.poll.cursor_field

        def cursor_of(record: RawRecord) -> str | None:
            value = orjson.loads(record.payload).get(field_name)
            return None if value is None else str(value)

        return OriginFeed(self.poll.url, None, records, {"format": "jsonl"}, cursor_of)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def wait_between_rounds(seconds: float, stop: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop():
        time.sleep(min(0.2, seconds))
