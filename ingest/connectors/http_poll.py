"""HTTP poll: fetch new records from a JSON endpoint with a cursor, with retry and backoff.

Each request is ``GET <url>?<cursor_param>=<cursor>`` (no parameter on the very first one).
The answer is a JSON array of records, or an object holding it under ``records``, ``data``
or ``items``. The cursor after a record is its ``cursor_field`` (a since-id or a
since-timestamp). A full page is followed at once by the next; an empty one ends a round.
Every record is published as one canonical line (re-serialised JSON of the element: the
answer's bytes cannot be cut per element), numbered from 1 across the life of the
endpoint. An element that is not an object is published too: the parse stage makes it a
dead letter ("expected a JSON object"), so nothing is dropped here. The resume point is
the cursor on the last acknowledged batch on the raw topic, so a poller killed at any point
asks again from exactly there.

Transient answers (connection errors, timeouts, 429, 5xx) are retried with capped
exponential backoff, honouring ``Retry-After``; other 4xx answers stop the poller.

Safety (:mod:`ingest.http_safety`): redirects never carry the request headers to
another origin and never go from https to http; an answer is read up to ``max_answer_bytes``
within ``max_answer_s``, else the poller stops (too large) or retries (too slow). A full page
after which the cursor has not moved (records without ``cursor_field``, or an endpoint that
ignores ``cursor_param``) stops the poller before that page is published, instead of asking
for the same page for ever. Errors and logs name the URL without credentials or query.
"""

from __future__ import annotations

import hashlib
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ingest.connectors.base import OriginFeed
from ingest.errors import SourceUnavailable
from ingest.http_safety import (
    AnswerTooLarge,
    RedirectRefused,
    opener,
    read_bounded,
    redacted,
)
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
    max_answer_bytes: int = 64 * 1024 * 1024
    max_answer_s: float = 120.0  # the whole answer, headers to last byte

    @property
    def origin(self) -> str:
        """The endpoint as records and resume points name it: no user, password or query
        (a token often rides there), plus a digest so two queries stay two origins."""
        shown = redacted(self.url)
        if shown == self.url:
            return shown
        return f"{shown}#{hashlib.sha256(self.url.encode()).hexdigest()[:16]}"


def records_in(body: bytes) -> list[Any]:
    """The page's elements, objects or not (the parse stage dead-letters the others)."""
    data = orjson.loads(body)
    if isinstance(data, dict):
        for key in RECORD_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON array of records or an object with {RECORD_KEYS}")
    return data


class HttpPoller:
    def __init__(self, poll: PollSettings, source: str, sleep: Callable[[float], None]) -> None:
        self.poll = poll
        self.source = source
        self._sleep = sleep
        self.requests = 0
        self.retries = 0
        self._opener = opener()
        # (position, cursor after it) of records yielded but not yet closing a batch
        self._cursors: deque[tuple[int, str | None]] = deque()

    def url_for(self, cursor: str | None) -> str:
        if cursor is None:
            return self.poll.url
        parts = urllib.parse.urlsplit(self.poll.url)
        query = urllib.parse.parse_qsl(parts.query)
        query = [(k, v) for k, v in query if k != self.poll.cursor_param]
        query.append((self.poll.cursor_param, cursor))
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def fetch(self, cursor: str | None) -> list[Any]:
        """One page after ``cursor``, retrying transient failures with backoff."""
        where = redacted(self.poll.url)
        delay, attempt = 1.0, 0
        while True:
            attempt += 1
            self.requests += 1
            request = urllib.request.Request(
                self.url_for(cursor), headers={"Accept": "application/json", **self.poll.headers}
            )
            deadline = time.monotonic() + self.poll.max_answer_s
            try:
                with self._opener.open(request, timeout=self.poll.timeout_s) as answer:
                    body = read_bounded(answer, self.poll.max_answer_bytes, deadline)
                try:
                    return records_in(body)
                except ValueError as exc:  # the cursor does not move: nothing is skipped
                    raise SourceUnavailable(f"{where}: unreadable answer: {exc}") from exc
            except (RedirectRefused, AnswerTooLarge) as exc:
                raise SourceUnavailable(f"{where}: {exc}") from exc
            except urllib.error.HTTPError as exc:
                if exc.code != 429 and exc.code < 500:
                    message = f"{where} answered {exc.code}: {exc.reason}"
                    raise SourceUnavailable(message) from exc
                wait = _retry_after(exc.headers.get("Retry-After")) or delay
                reason = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                wait, reason = delay, str(exc)
            if self.poll.max_attempts and attempt >= self.poll.max_attempts:
                raise SourceUnavailable(f"{where}: gave up after {attempt} attempts")
            self.retries += 1
            log.warning("endpoint unavailable, retrying", extra={"reason": reason, "in_s": wait})
            self._sleep(wait)
            delay = min(delay * 2, self.poll.max_backoff_s)

    def cursor_after(self, item: Any, cursor: str | None) -> str | None:
        value = item.get(self.poll.cursor_field) if isinstance(item, dict) else None
        return cursor if value is None else str(value)

    def records(self, cursor: str | None, position: int) -> Iterator[RawRecord]:
        """Every record after ``cursor``, page after page, until a page comes back empty.
        Raises :class:`SourceUnavailable` before publishing a page that leaves the cursor
        where it was."""
        while True:
            page = self.fetch(cursor)
            if not page:
                return
            after = [cursor]
            for item in page:
                after.append(self.cursor_after(item, after[-1]))
            if after[-1] == cursor:
                raise SourceUnavailable(
                    f"{redacted(self.poll.url)}: the cursor did not move past {cursor!r} over a "
                    f"page of {len(page)} record(s): do they carry {self.poll.cursor_field!r}, "
                    f"and does the endpoint honour {self.poll.cursor_param!r}? Stopped rather "
                    "than publish the same page again"
                )
            received_at = datetime.now(UTC)
            for item, cursor in zip(page, after[1:], strict=True):
                position += 1
                payload = orjson.dumps(item)
                self._cursors.append((position, cursor))
                yield RawRecord(
                    source=self.source,
                    origin=self.poll.origin,
                    position=position,
                    payload=payload,
                    checksum=payload_checksum(payload),
                    received_at=received_at,
                )

    def feed(self, records: Iterator[RawRecord]) -> OriginFeed:
        """``records`` as a feed whose batches carry the cursor after their last record
        (kept here, as a record that is not an object or lacks the field does not say it)."""

        def cursor_of(record: RawRecord) -> str | None:
            while self._cursors:
                position, cursor = self._cursors.popleft()
                if position == record.position:
                    return cursor
            raise LookupError(f"no cursor noted for record {record.position}")

        return OriginFeed(self.poll.origin, None, records, {"format": "jsonl"}, cursor_of)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def wait_between_rounds(seconds: float, stop: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop():
        time.sleep(min(0.2, seconds))
