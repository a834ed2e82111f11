"""The alerts the console shows, read from ClickHouse with two named queries
(``console_alerts``, ``console_alert_lines``) through :func:`named_query`: via the worker or
sink that owns the embedded directory when one runs, else by opening it for the read. A
snapshot is reused for ``refresh_s`` seconds, so polling browsers cost one read."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from stream.warehouse.client import QueryResult

Fetch = Callable[[str], QueryResult]


@dataclass(slots=True)
class Book:
    """One read of the alerts: newest first, by id, and each alert's lines."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def get(self, alert_id: str) -> dict[str, Any] | None:
        return next((a for a in self.alerts if a["alert_id"] == alert_id), None)


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def _loads(text: Any, default: Any) -> Any:
    if not isinstance(text, str) or not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def build(alerts: QueryResult, lines: QueryResult) -> Book:
    book = Book()
    for row in alerts.as_dicts():
        row["parties"] = _loads(row.get("parties"), [])
        row["day"] = _day(row.get("first_seen"))
        book.alerts.append(row)
    for line in lines.as_dicts():
        line["evidence"] = _loads(line.get("evidence"), [])
        line["screening_hits"] = _loads(line.get("screening_hits"), [])
        book.lines.setdefault(line["alert_id"], []).append(line)
    return book


class AlertSource:
    """A cached :class:`Book`; one read at a time (the embedded engine is single-process)."""

    def __init__(
        self, fetch: Fetch, refresh_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.fetch = fetch
        self.refresh_s = refresh_s
        self.clock = clock
        self._lock = threading.Lock()
        self._book: Book | None = None
        self._read_at = 0.0

    def book(self) -> Book:
        with self._lock:
            if self._book is None or self.clock() - self._read_at >= self.refresh_s:
                self._book = build(self.fetch("console_alerts"), self.fetch("console_alert_lines"))
                self._read_at = self.clock()
            return self._book


def highlight(description: str, evidence: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """The description as written, cut into (text, is_evidence) pieces: each term's words
    as written (``text``, else the matched term) are found case-insensitively."""
    folded = description.casefold()
    spans: list[tuple[int, int]] = []
    for item in evidence:
        if item.get("kind") != "term" or item.get("field", "description") != "description":
            continue
        for needle in (item.get("text"), item.get("matched")):
            if not needle:
                continue
            start = folded.find(str(needle).casefold())
            if start >= 0:
                spans.append((start, start + len(str(needle))))
                break
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(spans):
        if start < at:
            start = at
        if start >= end:
            continue
        if start > at:
            pieces.append((description[at:start], False))
        pieces.append((description[start:end], True))
        at = end
    if at < len(description):
        pieces.append((description[at:], False))
    return pieces
