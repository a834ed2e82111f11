"""The only kafka-python producer: idempotent, ``acks=all``, keyed by origin.

Keying raw batches by their origin (file, endpoint) keeps one origin's batches in order on
one partition, which is what a resumable source offset needs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
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


class RawPublisher:
    """Publishes raw batches to one topic and waits for the broker's acknowledgement."""

    def __init__(self, settings: KafkaSettings, topic: str, max_request_bytes: int) -> None:
        self.topic = topic
        self._producer = make_producer(settings, max_request_bytes)
        self._on_acked: Acked | None = None

    def publish(
        self,
        batches: Iterable[RawBatch],
        progress: ProgressSink | None = None,
        partition: int | None = None,
        on_acked: Acked | None = None,
    ) -> PublishSummary:
        """Send every batch (to ``partition`` when given) and wait for the acknowledgements;
        ``on_acked(batch, metadata)`` runs for each acknowledged batch, in order."""
        summary = PublishSummary(topic=self.topic)
        started = time.monotonic()
        pending = []
        self._on_acked = on_acked
        for batch in batches:
            value = batch.model_dump_json().encode()
            future = self._producer.send(
                self.topic, key=batch.origin.encode(), value=value, partition=partition
            )
            pending.append((future, batch))
            summary.batches += 1
            summary.records += len(batch.records)
            summary.payload_bytes += sum(len(r.payload) for r in batch.records)
            if progress is not None:
                progress.advance(len(batch.records))
            if len(pending) >= 64:
                self._settle(pending, summary)
        self._producer.flush()
        self._settle(pending, summary)
        summary.seconds = time.monotonic() - started
        if summary.errors:
            raise PublishFailed(
                f"{len(summary.errors)} batch(es) not acknowledged by the broker: "
                f"{summary.errors[0]}"
            )
        return summary

    def _settle(self, pending: list[tuple[object, RawBatch]], summary: PublishSummary) -> None:
        for future, batch in pending:
            try:
                metadata = future.get(timeout=60)  # type: ignore[attr-defined]
            except KafkaError as exc:
                summary.errors.append(f"{batch.origin}@{batch.records[0].position}: {exc}")
                continue
            if self._on_acked is not None and not summary.errors:
                self._on_acked(batch, metadata)
        pending.clear()

    def close(self) -> None:
        self._producer.close(timeout=10)
