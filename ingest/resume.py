"""Where to resume an origin: the raw topic says what the broker really has.

Every batch of an origin goes to one partition (chosen from the origin by
:func:`partition_for`), in order, from an idempotent producer. So the records of an origin
already on the topic are those of its batches after the last acknowledged offset the state
file knows, and reading that tail finds the true last position even when the connector
died after the broker's acknowledgement but before it wrote the state file. An origin the
state file does not know (first time, or the state folder was lost) is looked up on its
partition from the start: what of the same origin and checksum is there is not published
again.

Resume skips the records the state file saw acknowledged in order, and those of every batch
found on the topic — not everything up to the highest position found, so the records of a
refused batch are published later even when a batch after it landed.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from dataclasses import dataclass

import orjson
from kafka import TopicPartition
from kafka.partitioner.default import murmur2

from ingest.broker.reader import log_end_offsets, new_consumer
from ingest.state import OriginState
from schemas.settings import Settings


def partition_for(origin_key: str, partitions: int) -> int:
    """The partition every batch of this origin goes to (Kafka's murmur2 of the key)."""
    return int(murmur2(origin_key.encode()) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True, slots=True)
class Published:
    position: int  # last record position on the topic (0: none)
    cursor: str | None
    offset: int  # offset of the batch holding it (-1: none)
    acked: int = 0  # every record up to here is on the topic (acknowledged in order)
    spans: tuple[tuple[int, int], ...] = ()  # (first, last) position of each batch found
    earliest: int = -1  # offset of the first batch found (-1: none)

    def holds(self, position: int) -> bool:
        """Whether the record at ``position`` is already on the topic."""
        if position <= self.acked:
            return True
        at = bisect_right(self.spans, (position, sys.maxsize)) - 1
        return at >= 0 and position <= self.spans[at][1]


def published(
    settings: Settings,
    topic: str,
    origin: str,
    checksum: str | None,
    state: OriginState,
    from_start: bool = False,
    key: bytes | None = None,
) -> Published:
    """The origin's records on ``topic`` after what ``state`` knows, or (``from_start``)
    all of them still on its partition. ``key``: the messages' key (default the origin; a
    chunk's own, see :func:`ingest.connectors.base.chunk_name`)."""
    position, cursor, offset = state.position, state.cursor, state.offset
    spans: list[tuple[int, int]] = []
    earliest = -1
    tp = TopicPartition(topic, state.partition)
    key = key if key is not None else origin.encode()
    consumer = new_consumer(settings)
    try:
        end = log_end_offsets(consumer, [tp])[tp]
        start = (
            int(consumer.beginning_offsets([tp])[tp])
            if from_start
            else max(state.offset + 1, state.scan_from)
        )
        if not from_start and state.rescan_from >= 0:
            start = min(start, state.rescan_from)
        if end > start:
            consumer.assign([tp])
            consumer.seek(tp, start)
        while end > start and consumer.position(tp) < end:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.offset >= end or record.key != key:
                        continue
                    batch = orjson.loads(record.value)
                    if batch.get("origin") != origin or batch.get("origin_checksum") != checksum:
                        continue
                    first = int(batch["records"][0]["position"])
                    last = int(batch["records"][-1]["position"])
                    spans.append((first, last))
                    earliest = record.offset if earliest < 0 else earliest
                    if last > position:
                        position, cursor, offset = last, batch.get("cursor"), record.offset
    finally:
        consumer.close()
    acked = 0 if from_start else state.position
    return Published(position, cursor, offset, acked, _merged(spans), earliest)


def _merged(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted spans with overlapping ones joined (a batch copied twice overlaps itself)."""
    out: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return tuple(out)


def still_there(settings: Settings, topic: str, state: OriginState) -> bool:
    """False when the partition ends before the last acknowledged batch: the topic was
    deleted and created again (a new local broker), so the resume point means nothing."""
    if state.offset < 0 and state.scan_from == 0:
        return True
    consumer = new_consumer(settings)
    try:
        tp = TopicPartition(topic, state.partition)
        end = int(log_end_offsets(consumer, [tp])[tp])
    finally:
        consumer.close()
    return end > state.offset and end >= state.scan_from


def first_seen(settings: Settings, topic: str, origin_key: str, chunk: int = 0) -> OriginState:
    """State for an origin (or chunk ``chunk`` of it) never published before: its partition,
    and that partition's end now (nothing of the origin can be before it). Chunk n goes to
    the n-th partition after the origin's, so a file's chunks spread over every partition."""
    consumer = new_consumer(settings)
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise ValueError(f"topic {topic} does not exist")
        partition = (partition_for(origin_key, len(partitions)) + chunk) % len(partitions)
        tp = TopicPartition(topic, partition)
        return OriginState(partition=partition, scan_from=int(log_end_offsets(consumer, [tp])[tp]))
    finally:
        consumer.close()
