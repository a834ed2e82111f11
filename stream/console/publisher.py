"""Publish the audit events from the store's outbox on ``<prefix>.alert-actions``.

An action is committed to the store first; the outbox row goes only after the broker
acknowledged the event, so a broker that is down delays events and loses none (a crash
between the ack and the mark sends one again: consumers drop repeated event ids, the sink
by identity)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from schemas.codecs import ALERT_ACTION
from stream.console.store import Store

log = logging.getLogger(__name__)


class Outbox:
    def __init__(
        self, store: Store, topic: str, producer: Callable[[], Any], interval_s: float = 2.0
    ) -> None:
        self.store = store
        self.topic = topic
        self.make_producer = producer
        self.interval_s = interval_s
        self._producer: Any = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def drain(self) -> int:
        """Send every unpublished event, oldest first; how many went out."""
        pending = self.store.unpublished()
        if not pending:
            return 0
        if self._producer is None:
            self._producer = self.make_producer()
        futures = [
            self._producer.send(self.topic, key=e.alert_id.encode(), value=ALERT_ACTION.encode(e))
            for e in pending
        ]
        self._producer.flush()
        for future in futures:
            future.get(timeout=30)
        self.store.mark_published([e.event_id for e in pending])
        return len(pending)

    def poke(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception as exc:  # the broker may be away: keep the events, retry
                log.warning("event=actions_not_published reason=%r", str(exc)[:300])
                self._close_producer()
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="console-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._close_producer()

    def _close_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=5)
            finally:
                self._producer = None
