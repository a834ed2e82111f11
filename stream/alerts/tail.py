"""Watch the alerts topic: filters, one-line rendering, and a consumer with its own group.

``customs-watch alerts tail`` and ``customs-watch alerts webhook`` each read
``<prefix>.alerts`` in their own consumer group, so every watcher sees every alert and
resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ingest.broker.clients import kafka_consumer
from schemas.alert import Alert
from schemas.codecs import ALERT, Undecodable
from schemas.settings import Settings

SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a watcher wants: any of ``rules``, at least ``min_severity``, and a
    destination or party country among ``countries`` (empty means any)."""

    rules: frozenset[str] = frozenset()
    min_severity: str = "low"
    countries: frozenset[str] = field(default_factory=frozenset)

    def matches(self, alert: Alert) -> bool:
        if self.rules and alert.rule not in self.rules:
            return False
        if SEVERITY_ORDER[alert.severity] < SEVERITY_ORDER[self.min_severity]:
            return False
        if self.countries:
            seen = {alert.destination_country, *(p.country for p in alert.parties)}
            if not self.countries & {c.upper() for c in seen if c}:
                return False
        return True


def format_alert(alert: Alert) -> str:
    """One line a person can read on a terminal."""
    lines = ", ".join(f"{k.declaration_id}:{k.line_no}" for k in alert.lines[:3])
    if len(alert.lines) > 3:
        lines += f" (+{len(alert.lines) - 3})"
    parties = "; ".join(f"{p.role} {p.name}" for p in alert.parties[:2])
    return (
        f"{alert.last_seen:%Y-%m-%d %H:%M:%S} {alert.severity.upper():8} {alert.rule:32} "
        f"score={alert.score:.2f} dest={alert.destination_country or '-'} lines={lines} "
        f"| {parties} | {alert.reason}"
    )


def follow_alerts(
    settings: Settings,
    group_id: str,
    from_beginning: bool = False,
    idle_timeout_s: float | None = None,
    on_bad: Any = None,
    max_poll_records: int = 500,
    max_poll_interval_s: float = 300,
) -> Iterator[tuple[Any, Alert | None]]:
    """Yield ``(consumer, alert)`` as alerts arrive, committing after the caller is done
    with each (the next ``next()``). ``alert`` is None for a record that is not an alert
    (``on_bad`` is told). Stops after ``idle_timeout_s`` without a record once the group has
    assigned it partitions, if given. The caller must be done with the ``max_poll_records``
    of one poll within ``max_poll_interval_s``, or the group takes the partitions away."""
    consumer = kafka_consumer(
        settings.kafka,
        settings.topics.alerts,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        session_timeout_ms=settings.kafka.session_timeout_ms,
        heartbeat_interval_ms=settings.kafka.heartbeat_interval_ms,
        fetch_max_wait_ms=settings.kafka.fetch_max_wait_ms,
        max_poll_records=max_poll_records,
        max_poll_interval_ms=int(max_poll_interval_s * 1000),
        fetch_max_bytes=settings.topics.max_message_bytes,
        max_partition_fetch_bytes=settings.topics.max_message_bytes,
    )
    try:
        last_record = time.monotonic()
        while True:
            batch = consumer.poll(timeout_ms=500)
            if not batch:
                if not consumer.assignment():  # still joining the group: not idle yet
                    last_record = time.monotonic()
                elif idle_timeout_s is not None and time.monotonic() - last_record > idle_timeout_s:
                    return
                continue
            last_record = time.monotonic()
            for records in batch.values():
                for record in records:
                    try:
                        alert: Alert | None = ALERT.decode(record.value)
                    except Undecodable as exc:
                        alert = None
                        if on_bad:
                            on_bad(record, exc)
                    yield consumer, alert
            consumer.commit()
    finally:
        consumer.close()
