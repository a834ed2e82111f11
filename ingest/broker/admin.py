"""Kafka administration with kafka-python: create, list and delete topics; measure group lag."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError, UnknownTopicOrPartitionError

from ingest.broker.clients import kafka_admin, kafka_consumer
from ingest.broker.reader import log_end_offsets, new_consumer, partitions_of
from schemas.errors import TransientError
from schemas.settings import Settings


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int
    retention_ms: int
    compacted: bool = False


def topic_specs(settings: Settings) -> list[TopicSpec]:
    t = settings.topics
    specs = [
        TopicSpec(name, t.partitions, t.replication, t.retention_ms)
        for name in t.all_names()
        if name not in (t.deadletter, t.alert_actions, t.party_registry, t.party_merges)
    ]
    specs.append(TopicSpec(t.deadletter, t.partitions, t.replication, t.deadletter_retention_ms))
    # the audit trail, and where workers read suppressions lasting up to a year: kept
    specs.append(TopicSpec(t.alert_actions, t.partitions, t.replication, -1))
    # every worker reads these whole at start: kept, compacted to the latest per key
    for name in (t.party_registry, t.party_merges):
        specs.append(TopicSpec(name, t.partitions, t.replication, -1, compacted=True))
    return specs


def _admin(settings: Settings) -> KafkaAdminClient:
    return kafka_admin(settings.kafka)


def existing_topics(settings: Settings) -> set[str]:
    consumer = kafka_consumer(settings.kafka, enable_auto_commit=False)
    try:
        return set(consumer.topics())
    finally:
        consumer.close()


def create_topics(settings: Settings, specs: list[TopicSpec] | None = None) -> dict[str, str]:
    """Create missing topics; returns ``{name: 'created' | 'exists'}``."""
    specs = topic_specs(settings) if specs is None else specs
    admin = _admin(settings)
    outcome: dict[str, str] = {}
    try:
        present = set(admin.list_topics())
        wanted = []
        for spec in specs:
            if spec.name in present:
                outcome[spec.name] = "exists"
                continue
            configs = {
                "retention.ms": str(spec.retention_ms),
                "max.message.bytes": str(settings.topics.max_message_bytes),
            }
            if spec.compacted:
                configs["cleanup.policy"] = "compact"
            wanted.append(
                NewTopic(spec.name, spec.partitions, spec.replication, topic_configs=configs)
            )
        for topic in wanted:
            try:
                admin.create_topics([topic])
                outcome[topic.name] = "created"
            except TopicAlreadyExistsError:
                outcome[topic.name] = "exists"
    finally:
        admin.close()
    return outcome


def delete_topics(settings: Settings, names: list[str]) -> None:
    admin = _admin(settings)
    try:
        for name in names:
            with contextlib.suppress(UnknownTopicOrPartitionError):
                admin.delete_topics([name])
    finally:
        admin.close()


def group_lag(settings: Settings, group: str, topics: list[str]) -> dict[str, int]:
    """Messages not yet committed by ``group``, per topic (log end minus committed offset)."""
    admin = _admin(settings)
    consumer = new_consumer(settings)
    try:
        partitions = partitions_of(consumer, topics)
        if not partitions:
            return {}
        ends = log_end_offsets(consumer, partitions)
        committed = admin.list_group_offsets({group: partitions}).get(group, {})
        lag: dict[str, int] = {}
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag[tp.topic] = lag.get(tp.topic, 0) + max(ends[tp] - done, 0)
        return lag
    finally:
        consumer.close()
        admin.close()


def wait_until_drained(
    settings: Settings, group: str, topics: list[str], timeout_s: float, settle_s: float = 0.0
) -> dict[str, int]:
    """Poll the group's lag until it is zero on every topic; raise on timeout."""
    deadline = time.monotonic() + timeout_s
    lag: dict[str, int] = {}
    while time.monotonic() < deadline:
        try:
            lag = group_lag(settings, group, topics)
        except KafkaError:
            lag = {t: -1 for t in topics}
        if lag and all(v == 0 for v in lag.values()):
            if settle_s:
                time.sleep(settle_s)
            return lag
        time.sleep(0.5)
    raise TransientError(f"group {group} still has lag after {timeout_s:.0f}s: {lag}")
