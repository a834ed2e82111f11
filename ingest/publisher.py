"""The only kafka-python producer: idempotent, ``acks=all``, keyed by origin.

Keying raw batches by their origin (file, endpoint) keeps one origin's batches in order on
one partition, which is what a resumable source offset needs. Publishing stops at the first
batch the broker refuses, so no batch after it is reported acknowledged ahead of it. A batch
too large for one message is split; a single record too large is handed to ``on_oversize``
(a dead letter) and the rest goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from ingest.broker.clients import kafka_producer
from ingest.errors import PublishFailed
from ingest.progress import ProgressSink
from schemas.raw import RawBatch
from schemas.settings import KafkaSettings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PublishSummary:
    topic: str
    batches: int = 0
    records: int = 0
    payload_bytes: int = 0
    seconds: float = 0.0
    rejected: int = 0
    skipped: int = 0  # already on the topic from an earlier run (resumed)
    errors: list[str] = field(default_factory=list)

    def absorb(self, other: PublishSummary) -> None:
        """Add another part's counts (one chunk of the same origin)."""
        self.batches += other.batches
        self.records += other.records
        self.payload_bytes += other.payload_bytes
        self.seconds += other.seconds
        self.rejected += other.rejected
        self.skipped += other.skipped
        self.errors.extend(other.errors)

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def make_producer(settings: KafkaSettings, max_request_bytes: int) -> KafkaProducer:
    compression = None if settings.compression == "none" else settings.compression
    return kafka_producer(
        settings,
        enable_idempotence=True,
        acks="all",
        compression_type=compression,
        linger_ms=settings.linger_ms,
        max_request_size=max_request_bytes,
    )


Acked = Callable[[RawBatch, Any], None]
"""Called with each batch the broker acknowledged and its record metadata."""

Oversize = Callable[[RawBatch, int], None]
"""Called with a one-record batch whose message would be ``size`` bytes, over the limit."""

MESSAGE_OVERHEAD_BYTES = 1024
"""Room kept for the record batch headers around a message's key and value."""


class RawPublisher:
    """Publishes raw batches to one topic and waits for the broker's acknowledgement."""

    def __init__(self, settings: KafkaSettings, topic: str, max_request_bytes: int) -> None:
        self.topic = topic
        self.max_message_bytes = max_request_bytes
        self._producer = make_producer(settings, max_request_bytes)
        self._on_acked: Acked | None = None

    @property
    def producer(self) -> KafkaProducer:
        """The idempotent producer, for dead letters of the same run."""
        return self._producer

    def _fitting(
        self, batch: RawBatch, on_oversize: Oversize | None
    ) -> Iterator[tuple[RawBatch, bytes]]:
        """The batch and its JSON, or its halves until each fits in one message; a lone
        record that does not fit goes to ``on_oversize`` (or raises :class:`PublishFailed`).
        The JSON measured is the JSON sent: a batch is written once."""
        value = batch.model_dump_json().encode()
        size = len(value) + len(batch.origin.encode()) + MESSAGE_OVERHEAD_BYTES
        if size <= self.max_message_bytes:
            yield batch, value
        elif len(batch.records) > 1:
            half = len(batch.records) // 2
            for part in (batch.records[:half], batch.records[half:]):
                yield from self._fitting(batch.model_copy(update={"records": part}), on_oversize)
        elif on_oversize is not None:
            on_oversize(batch, size)
        else:
            raise PublishFailed(
                f"{batch.origin}@{batch.records[0].position}: a {size}-byte message is over "
                f"the limit of {self.max_message_bytes} (topics.max_message_bytes)"
            )

    def publish(
        self,
        batches: Iterable[RawBatch],
        progress: ProgressSink | None = None,
        partition: int | None = None,
        on_acked: Acked | None = None,
        on_oversize: Oversize | None = None,
        key: bytes | None = None,
    ) -> PublishSummary:
        """Send every batch (to ``partition`` when given) and wait for the acknowledgements;
        ``on_acked(batch, metadata)`` runs for each acknowledged batch, in order, up to the
        first one refused, where publishing stops. A lone record too large for a message goes
        to ``on_oversize(batch, size)`` and counts as rejected. ``key``: every message's key
        (default the batch's origin)."""
        summary = PublishSummary(topic=self.topic)
        started = time.monotonic()
        pending: list[tuple[Any, RawBatch]] = []
        self._on_acked = on_acked

        def oversize(batch: RawBatch, size: int) -> None:
            summary.rejected += 1
            assert on_oversize is not None
            on_oversize(batch, size)

        try:
            for batch in batches:
                for part, value in self._fitting(batch, oversize if on_oversize else None):
                    future = self._producer.send(
                        self.topic,
                        key=key if key is not None else part.origin.encode(),
                        value=value,
                        partition=partition,
                    )
                    pending.append((future, part))
                    summary.batches += 1
                    summary.records += len(part.records)
                    summary.payload_bytes += sum(len(r.payload) for r in part.records)
                if progress is not None:
                    progress.advance(len(batch.records))
                if len(pending) >= 64:
                    self._settle(pending, summary)
                if summary.errors:
                    break  # nothing after a refused batch: resume would skip past the gap
        finally:  # also when reading the feed failed: what was sent is settled first
            self._producer.flush()
            self._settle(pending, summary)
        summary.seconds = time.monotonic() - started
        if summary.errors:
            raise PublishFailed(
                f"{len(summary.errors)} batch(es) not acknowledged by the broker: "
                f"{summary.errors[0]}"
            )
        return summary

    def _settle(self, pending: list[tuple[Any, RawBatch]], summary: PublishSummary) -> None:
        for future, batch in pending:
            try:
                metadata = future.get(timeout=60)
            except KafkaError as exc:
                summary.errors.append(f"{batch.origin}@{batch.records[0].position}: {exc}")
                continue
            if self._on_acked is not None and not summary.errors:
                self._on_acked(batch, metadata)
        pending.clear()

    def close(self) -> None:
        self._producer.close(timeout=10)
