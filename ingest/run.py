"""Publish one origin exactly once, resuming where the raw topic says it stopped.

The sequence for an origin (a file, an endpoint):

1. first time (no entry in the state file, also when the state folder was lost): record
   its partition and that partition's current end in the state file, and read what of the
   origin (same path and checksum) is already on the partition;
2. else ask the topic for the origin's records after the last acknowledged batch
   (:func:`ingest.resume.published`); either way skip every record found there;
3. publish the rest in batches to that partition with the idempotent producer, and after
   each acknowledged batch write the new resume point; stop at the first refused batch;
   a record too large for one message becomes a dead letter (reason, position, its first
   bytes) and the rest goes on;
4. mark the origin done.

A file is published in chunks of ``ingest.chunk_records`` positions (a smaller file is one
chunk, as before). Each chunk goes through the sequence above on its own: its own entry in
the state file and message key (:func:`ingest.connectors.base.chunk_name`), its own
partition (the file's, then the next ones), its own resume point; so a backfill file is
spread over the partitions and several workers share it, and each chunk still lands exactly
once. Chunks are published one after the other; the first refused batch stops the file.

A kill at any point loses nothing (unacknowledged records are sent again) and duplicates
nothing (acknowledged ones are found on the topic and skipped). Only one connector at a
time publishes a source (the state file's lock, :mod:`ingest.state`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from itertools import groupby
from types import TracebackType
from typing import Any

from ingest.broker.deadletters import publish_dead_letters
from ingest.connectors.base import OriginFeed, batches, chunk_name, chunk_of, origin_key
from ingest.progress import ProgressSink
from ingest.publisher import PublishSummary, RawPublisher
from ingest.resume import Published, first_seen, published, still_there
from ingest.state import OriginState, SourceState
from schemas.dead_letter import DeadLetter
from schemas.raw import RawBatch, RawRecord
from schemas.settings import Settings

LETTER_ROOM_BYTES = 64 * 1024
"""Room kept in a dead letter's message for everything but the payload."""


def origin_state(
    settings: Settings, topic: str, key: str, state: SourceState, chunk: int = 0
) -> tuple[OriginState, bool]:
    """The resume point of an origin's chunk (0: the origin itself), and whether the state
    file knew it (False: never seen, the state was lost, or its topic was recreated; the
    partition must be read from the start)."""
    name = chunk_name(key, chunk)
    current = state.get(name)
    if current is not None and not still_there(settings, topic, current):
        current = None
    if current is not None:
        return current, True
    current = first_seen(settings, topic, key, chunk)
    state.put(name, current)
    return current, False


def resume_point(
    settings: Settings, topic: str, origin: str, checksum: str | None, state: SourceState
) -> Published:
    """The origin's last record (position, cursor) on the topic."""
    current, known = origin_state(settings, topic, origin_key(origin, checksum), state)
    return published(settings, topic, origin, checksum, current, from_start=not known)


def oversize_letter(batch: RawBatch, size: int, limit: int) -> DeadLetter:
    """The dead letter of a record too large for a raw message: why, where, and as much of
    its bytes as a dead letter holds (base64 takes 4 bytes per 3)."""
    record = batch.records[0]
    room = (limit - LETTER_ROOM_BYTES) * 3 // 4
    kept = record.payload[:room]
    head = "" if len(kept) == len(record.payload) else f"; the letter keeps its first {room} bytes"
    context = batch.model_dump(
        include={"format", "mapping", "encoding", "header", "origin_checksum"}, exclude_none=True
    )
    return DeadLetter(
        source=record.source,
        origin=record.origin,
        position=record.position,
        stage="ingest",
        reason=f"record of {len(record.payload)} bytes makes a {size}-byte raw message, over the "
        f"limit of {limit} (topics.max_message_bytes){head}",
        payload=kept,
        context=context,
    )


def publish_origin(
    settings: Settings,
    feed: OriginFeed,
    publisher: RawPublisher,
    state: SourceState,
    progress: ProgressSink | None = None,
    finished: bool = True,
) -> PublishSummary:
    """Publish what of ``feed`` is not on the topic yet, chunk by chunk; ``finished=False``
    for an origin that goes on (a polled endpoint): it is never marked done and never
    chunked (its resume point is the origin's own)."""
    size = settings.ingest.chunk_records if finished else sys.maxsize
    summary = PublishSummary(topic=publisher.topic)
    for chunk, records in groupby(feed.records, key=lambda r: chunk_of(r.position, size)):
        part = _publish_chunk(settings, feed, chunk, records, publisher, state, progress)
        summary.absorb(part)
        entry = state.get(chunk_name(feed.key, chunk))
        if entry is not None and entry.done != finished:
            entry.done = finished
            state.put(chunk_name(feed.key, chunk), entry)
    return summary


def _publish_chunk(
    settings: Settings,
    feed: OriginFeed,
    chunk: int,
    records: Iterable[RawRecord],
    publisher: RawPublisher,
    state: SourceState,
    progress: ProgressSink | None,
) -> PublishSummary:
    topic = publisher.topic
    name = chunk_name(feed.key, chunk)
    key = chunk_name(feed.origin, chunk).encode()
    current, known = origin_state(settings, topic, feed.key, state, chunk)
    if current.done:
        return PublishSummary(topic=topic, skipped=sum(1 for _ in records))
    already = published(
        settings, topic, feed.origin, feed.checksum, current, from_start=not known, key=key
    )
    # The entry keeps the in-order acknowledged position: a batch found past a gap does not
    # move it (the gap's records are published now, and holds() skips what was found).
    current.cursor, current.offset = already.cursor, max(already.offset, current.offset)
    if already.earliest >= 0 and not 0 <= current.rescan_from <= already.earliest:
        current.rescan_from = already.earliest
    skipped = 0

    def fresh() -> Iterator[RawRecord]:
        nonlocal skipped
        for record in records:
            if already.holds(record.position):
                skipped += 1
                continue
            yield record

    def oversize(batch: RawBatch, size: int) -> None:
        letter = oversize_letter(batch, size, settings.topics.max_message_bytes)
        publish_dead_letters(publisher.producer, settings.topics.deadletter, [letter])

    def acked(batch: RawBatch, metadata: Any) -> None:
        current.position = batch.records[-1].position
        current.offset = int(metadata.offset)
        current.cursor = batch.cursor
        state.put(name, current)

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
        on_oversize=oversize,
        key=key,
    )
    summary.skipped = skipped
    state.put(name, current)
    return summary


class SourcePublisher:
    """Publishes origins to one raw topic, each exactly once: the producer and the resume
    points shared by every origin a command publishes (one file, a watched folder's files,
    an endpoint's rounds)."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings = settings
        self.topic = topic
        self.state = SourceState(settings.ingest.state_dir, topic)  # SourceBusy: one at a time
        try:
            self.publisher = RawPublisher(settings.kafka, topic, settings.topics.max_message_bytes)
        except BaseException:
            self.state.close()
            raise

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
        try:
            self.publisher.close()
        finally:
            self.state.close()

    def __enter__(self) -> SourcePublisher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
