"""The party registry every worker shares: what this worker's enricher registered is
published on ``<prefix>.party-registry`` (names, identifiers) and ``<prefix>.party-merges``
(merges, splits), and what any worker or analyst published is read back from both topics and
folded into the worker's :class:`PartyBook`, on a timer, off the event loop.

A plain reader on a timer rather than a faust GlobalTable: the registry is a log of events
replayed in order (a merge then a split of the same party must stay in that order), each
worker needs all of it whatever partitions it holds, and the analysts' CLI and the sink
read the same topics without faust. The id stored on a line does not depend on the
registry (:meth:`PartyResolver.base_id`), so a worker that stops before publishing loses
no id: it registers the name again the next time it meets it.
"""

from __future__ import annotations

import logging
from typing import Any

from ingest.broker.clients import kafka_producer
from ingest.broker.reader import log_end_offsets, new_consumer, partitions_of
from schemas.codecs import PARTY_MERGE, PARTY_REGISTRY, Undecodable
from schemas.party import PartyMerge, PartyRegistryEvent
from schemas.settings import Settings
from stream.stages.party import PartyBook, RegistryEvent

log = logging.getLogger(__name__)


def to_message(event: RegistryEvent, by: str = "resolver") -> tuple[str, bytes, bytes]:
    """(topic kind, key, value) of a registry event on the wire."""
    if event.kind in ("merge", "split"):
        merge = PartyMerge(
            kind=event.kind,
            from_party=event.party,
            to_party=event.to or "",
            reason=event.reason or "",
            by=by,
        )
        return "merges", event.party.encode(), PARTY_MERGE.encode(merge)
    entry = PartyRegistryEvent(
        kind=event.kind,
        party=event.party,
        name=event.name,
        country=event.country,
        identifier=event.identifier,
    )
    return "registry", entry.key().encode(), PARTY_REGISTRY.encode(entry)


def from_registry(entry: PartyRegistryEvent) -> RegistryEvent:
    return RegistryEvent(
        entry.kind,
        entry.party,
        name=entry.name,
        country=entry.country,
        identifier=entry.identifier,
    )


def from_merge(merge: PartyMerge) -> RegistryEvent:
    return RegistryEvent(
        merge.kind, merge.from_party, to=merge.to_party or None, reason=merge.reason
    )


def publish(settings: Settings, producer: Any, events: list[RegistryEvent], by: str) -> None:
    """Send the events and wait for the broker's acknowledgement of each."""
    topics = {"merges": settings.topics.party_merges, "registry": settings.topics.party_registry}
    futures = []
    for event in events:
        kind, key, value = to_message(event, by)
        futures.append(producer.send(topics[kind], key=key, value=value))
    producer.flush()
    for future in futures:
        future.get(timeout=settings.kafka.request_timeout_ms / 1000)


class PartyRegistryReader:
    """Publishes what the book registered, then reads what was added since the last call."""

    def __init__(self, settings: Settings, book: PartyBook) -> None:
        self.settings = settings
        self.book = book
        self.topics = [settings.topics.party_registry, settings.topics.party_merges]
        self.positions: dict[Any, int] = {}
        self._producer: Any = None

    def publish_pending(self) -> int:
        pending = self.book.take_pending()
        if not pending:
            return 0
        try:
            if self._producer is None:
                self._producer = kafka_producer(self.settings.kafka, acks="all")
            publish(self.settings, self._producer, pending, "resolver")
        except Exception:
            self.book.give_back(pending)
            raise
        return len(pending)

    def refresh(self, poll_ms: int = 500) -> int:
        """Read, then publish what this worker registered; how many events were read.
        Reading first lets a split that arrived meanwhile drop the merge it undoes."""
        read = self._read(poll_ms)
        self.publish_pending()
        return read

    def _read(self, poll_ms: int) -> int:
        consumer = new_consumer(self.settings)
        read: list[RegistryEvent] = []
        try:
            partitions = partitions_of(consumer, self.topics)
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
                        event = self._decode(tp.topic, record.value)
                        if event is not None:
                            read.append(event)
        finally:
            consumer.close()
        # names and identifiers before merges, so a merge never names an unknown party
        read.sort(key=lambda e: e.kind in ("merge", "split"))
        self.book.apply(read)
        return len(read)

    def _decode(self, topic: str, value: bytes) -> RegistryEvent | None:
        try:
            if topic == self.settings.topics.party_merges:
                return from_merge(PARTY_MERGE.decode(value))
            return from_registry(PARTY_REGISTRY.decode(value))
        except Undecodable as exc:  # not ours to judge: the sink dead-letters the merges
            log.warning("party event not read", extra={"topic": topic, "error": exc})
            return None

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
