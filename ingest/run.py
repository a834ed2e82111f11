"""Publish one origin exactly once, resuming where the raw topic says it stopped.

The sequence for an origin (a file, an endpoint):

1. first time: record its partition and that partition's current end in the state file;
2. ask the topic for the origin's last published record (:func:`ingest.resume.published`)
   and skip every record up to it;
3. publish the rest in batches to that partition with the idempotent producer, and after
   each acknowledged batch write the new resume point;
4. mark the origin done.

A kill at any point loses nothing (unacknowledged records are sent again) and duplicates
nothing (acknowledged ones are found on the topic and skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any

from ingest.connectors.base import OriginFeed, batches, origin_key
from ingest.progress import ProgressSink
from ingest.publisher import PublishSummary, RawPublisher
from ingest.resume import Published, first_seen, published, still_there
from ingest.state import OriginState, SourceState
from schemas.raw import RawBatch, RawRecord
from schemas.settings import Settings


def origin_state(settings: Settings, topic: str, key: str, state: SourceState) -> OriginState:
    """The origin's resume point, new when never seen or when its topic was recreated."""
    current = state.get(key)
    if current is not None and not still_there(settings, topic, current):
        current = None
    if current is None:
        current = first_seen(settings, topic, key)
        state.put(key, current)
    return current


def resume_point(
    settings: Settings, topic: str, origin: str, checksum: str | None, state: SourceState
) -> Published:
    """The origin's last record (position, cursor) on the topic."""
    current = origin_state(settings, topic, origin_key(origin, checksum), state)
    return published(settings, topic, origin, checksum, current)


def publish_origin(
    settings: Settings,
    feed: OriginFeed,
    publisher: RawPublisher,
    state: SourceState,
    progress: ProgressSink | None = None,
    finished: bool = True,
) -> PublishSummary:
    """Publish what of ``feed`` is not on the topic yet; ``finished=False`` for an origin
    that goes on (a polled endpoint), which is never marked done."""
    topic = publisher.topic
    current = origin_state(settings, topic, feed.key, state)
    if current.done:
        return PublishSummary(topic=topic, skipped=sum(1 for _ in feed.records))
    already = published(settings, topic, feed.origin, feed.checksum, current)
    current.position, current.cursor, current.offset = (
        already.position,
        already.cursor,
        max(already.offset, current.offset),
    )
    skipped = 0

    def fresh() -> Iterator[RawRecord]:
        nonlocal skipped
        for record in feed.records:
            if record.position <= already.position:
                skipped += 1
                continue
            yield record

    def acked(batch: RawBatch, metadata: Any) -> None:
        current.position = batch.records[-1].position
        current.offset = int(metadata.offset)
        current.cursor = batch.cursor
        state.put(feed.key, current)

    context = {**feed.context, "origin_checksum": feed.checksum}
    cut = batches(fresh(), settings.ingest.batch_records, settings.ingest.batch_bytes, context)
    if feed.cursor_of is not None:
        cursor_of = feed.cursor_of
        cut = (b.model_copy(update={"cursor": cursor_of(b.records[-1])}) for b in cut)
    summary = publisher.publish(
        cut,
        progress,
        partition=current.partition,
        on_acked=acked,
    )
    summary.skipped = skipped
    current.done = finished
    state.put(feed.key, current)
    return summary


class SourcePublisher:
    """Publishes origins to one raw topic, each exactly once: the producer and the resume
    points shared by every origin a command publishes (one file, a watched folder's files,
    an endpoint's rounds)."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings = settings
        self.topic = topic
        self.publisher = RawPublisher(settings.kafka, topic, settings.topics.max_message_bytes)
        self.state = SourceState(settings.ingest.state_dir, topic)

    def publish(
        self, feed: OriginFeed, label: str | None = None, finished: bool = True
    ) -> PublishSummary:
        """:func:`publish_origin` with rows/s feedback under ``label`` when given."""
        progress = ProgressSink(label) if label is not None else None
        try:
            return publish_origin(
                self.settings, feed, self.publisher, self.state, progress, finished=finished
            )
        finally:
            if progress is not None:
                progress.close()

    def resume_point(self, origin: str, checksum: str | None = None) -> Published:
        return resume_point(self.settings, self.topic, origin, checksum, self.state)

    def close(self) -> None:
        self.publisher.close()

    def __enter__(self) -> SourcePublisher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
