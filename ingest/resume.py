"""Where to resume an origin: the raw topic says what the broker really has.

Every batch of an origin goes to one partition (chosen from the origin by
:func:`partition_for`), in order, from an idempotent producer. So the records of an origin
already on the topic are those of its batches after the last acknowledged offset the state
file knows, and reading that tail finds the true last position even when the connector
died after the broker's acknowledgement but before it wrote the state file.
"""

from __future__ import annotations

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


def published(
    settings: Settings, topic: str, origin: str, checksum: str | None, state: OriginState
) -> Published:
    """The origin's last record on ``topic`` at or after what ``state`` knows."""
    found = Published(state.position, state.cursor, state.offset)
    tp = TopicPartition(topic, state.partition)
    start = max(state.offset + 1, state.scan_from)
    consumer = new_consumer(settings)
    try:
        end = log_end_offsets(consumer, [tp])[tp]
        if end <= start:
            return found
        consumer.assign([tp])
        consumer.seek(tp, start)
        while consumer.position(tp) < end:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.offset >= end:
                        break
                    batch = orjson.loads(record.value)
                    if batch.get("origin") != origin or batch.get("origin_checksum") != checksum:
                        continue
                    last = int(batch["records"][-1]["position"])
                    if last > found.position:
                        found = Published(last, batch.get("cursor"), record.offset)
    finally:
        consumer.close()
    return found


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


def first_seen(settings: Settings, topic: str, origin_key: str) -> OriginState:
    """State for an origin never published before: its partition, and that partition's end
    now (nothing of the origin can be before it)."""
    consumer = new_consumer(settings)
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise ValueError(f"topic {topic} does not exist")
        partition = partition_for(origin_key, len(partitions))
        tp = TopicPartition(topic, partition)
        return OriginState(partition=partition, scan_from=int(log_end_offsets(consumer, [tp])[tp]))
    finally:
        consumer.close()
