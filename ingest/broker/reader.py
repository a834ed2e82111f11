"""Read a topic from its beginning up to its end, and find true log-end offsets.

Tansu 0.6 (the local broker) answers a "latest offset" request with the base offset of the
last record batch plus one, not the offset after its last record: after one batch of three
records it says 1, not 3. :func:`log_end_offsets` therefore reads the last batch and takes
the offset after its highest record; on Apache Kafka this gives the same answer as
``end_offsets``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kafka import TopicPartition

from ingest.broker.clients import kafka_consumer
from schemas.settings import Settings


def new_consumer(settings: Settings) -> Any:
    return kafka_consumer(
        settings.kafka,
        enable_auto_commit=False,
        fetch_max_bytes=settings.topics.max_message_bytes,
        max_partition_fetch_bytes=settings.topics.max_message_bytes,
    )


def partitions_of(consumer: Any, topics: list[str]) -> list[TopicPartition]:
    return [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]


def log_end_offsets(
    consumer: Any, partitions: list[TopicPartition], poll_ms: int = 300, max_polls: int = 20
) -> dict[TopicPartition, int]:
    """Offset after the last record of each partition (see the module docstring)."""
    reported: dict[TopicPartition, int] = consumer.end_offsets(partitions)
    ends = dict(reported)
    probing = [tp for tp in partitions if reported[tp] > 0]
    if not probing:
        return ends
    consumer.assign(probing)
    for tp in probing:
        consumer.seek(tp, reported[tp] - 1)
    waiting = set(probing)
    for _ in range(max_polls):
        if not waiting:
            break
        for tp, records in consumer.poll(timeout_ms=poll_ms).items():
            if records:
                ends[tp] = max(ends[tp], records[-1].offset + 1)
                waiting.discard(tp)
    consumer.assign([])
    return ends


def read_to_end(settings: Settings, topic: str, poll_ms: int = 500) -> Iterator[Any]:
    """Yield every record now on ``topic`` (kafka-python ConsumerRecords)."""
    consumer = new_consumer(settings)
    try:
        partitions = partitions_of(consumer, [topic])
        if not partitions:
            return
        ends = log_end_offsets(consumer, partitions)
        partitions = [tp for tp in partitions if ends[tp] > 0]
        if not partitions:
            return
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        remaining = set(partitions)
        while remaining:
            for tp, records in consumer.poll(timeout_ms=poll_ms).items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        consumer.close()
