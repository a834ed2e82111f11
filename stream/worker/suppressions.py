"""The approved suppressions, read by every worker from the whole ``<prefix>.alert-actions``
topic (each worker needs all of them, whichever parties its partitions carry), on a timer,
from where the last read stopped."""

from __future__ import annotations

import threading
from typing import Any

from ingest.broker.reader import log_end_offsets, new_consumer, partitions_of
from schemas.alert_action import Suppression
from schemas.codecs import ALERT_ACTION, Undecodable
from schemas.settings import Settings
from stream.stages.suppress import Key, fold


class SuppressionReader:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topics.alert_actions
        self.positions: dict[Any, int] = {}
        self.book: dict[Key, Suppression] = {}
        self._lock = threading.Lock()

    def current(self) -> dict[Key, Suppression]:
        with self._lock:
            return dict(self.book)

    def refresh(self, poll_ms: int = 500) -> int:
        """Read what was added since the last call; how many events were read."""
        consumer = new_consumer(self.settings)
        read = 0
        try:
            partitions = partitions_of(consumer, [self.topic])
            if not partitions:
                return 0
            ends = log_end_offsets(consumer, partitions)
            todo = [tp for tp in partitions if self.positions.get(tp, 0) < ends[tp]]
            if not todo:
                return 0
            consumer.assign(todo)
            for tp in todo:
                consumer.seek(tp, self.positions.get(tp, 0))
            while any(self.positions.get(tp, 0) < ends[tp] for tp in todo):
                batches = consumer.poll(timeout_ms=poll_ms)
                if not batches:
                    break
                for tp, records in batches.items():
                    for record in records:
                        self.positions[tp] = record.offset + 1
                        read += 1
                        try:
                            action = ALERT_ACTION.decode(record.value)
                        except Undecodable:
                            continue  # not ours to judge: the sink dead-letters it
                        with self._lock:
                            fold(self.book, action)
        finally:
            consumer.close()
        return read
