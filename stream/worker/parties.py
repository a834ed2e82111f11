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

A worker reads its own events back too (the log's order is what every worker folds), but
not off the wire: the broker acknowledged each with its offset, and the reader keeps the
event it sent under that offset. A run of its own events where a partition's next read
starts is taken from memory and not fetched; one fetched after another writer's is known
by the offset and the header :data:`REGISTRY_WRITER_HEADER` carrying this reader's
incarnation id (new for every reader, so for every start of a worker: a restarted worker
reads and decodes everything), and not decoded. The events folded, and their order within
a partition, are the same as decoding them.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from kafka import TopicPartition

from ingest.broker.clients import kafka_producer
from ingest.broker.reader import new_consumer, partitions_of
from schemas.codecs import PARTY_MERGE, PARTY_REGISTRY, Undecodable
from schemas.party import PartyMerge, PartyRegistryEvent
from schemas.settings import Settings
from stream.stages.party import PartyBook, RegistryEvent

log = logging.getLogger(__name__)

REGISTRY_WRITER_HEADER = "customs-watch-registry-writer"
"""Kafka header on every registry event a worker's reader publishes: the reader's
incarnation id. Readers other than that one ignore it (the analysts' CLI, the sink)."""

PRODUCER_TUNING: dict[str, Any] = {"linger_ms": 100}
"""A refresh publishes its events in one burst and then flushes (which sends at once,
whatever ``linger_ms``): the sender thread waits for full record batches instead of sending
each few records as they come, which costs the worker's CPU less."""


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


def publish(
    settings: Settings,
    producer: Any,
    events: list[RegistryEvent],
    by: str,
    headers: list[tuple[str, bytes]] | None = None,
) -> list[Any]:
    """Send the events and wait for the broker's acknowledgement of each; their record
    metadata (topic, partition, offset), in order."""
    topics = {"merges": settings.topics.party_merges, "registry": settings.topics.party_registry}
    futures = []
    for event in events:
        kind, key, value = to_message(event, by)
        futures.append(producer.send(topics[kind], key=key, value=value, headers=headers))
    producer.flush()
    return [future.get(timeout=settings.kafka.request_timeout_ms / 1000) for future in futures]


class RefreshClock:
    """When a refresh is due: every ``busy_s`` while the worker holds registered parties it
    has not published, else every ``idle_s`` (a refresh opens a consumer and fetches the
    topics' metadata: an idle worker need not pay that every second)."""

    def __init__(self, busy_s: float, idle_s: float, now: float) -> None:
        self.busy_s = min(busy_s, idle_s)
        self.idle_s = idle_s
        self.last = now

    def due(self, pending: bool, now: float) -> bool:
        """Is a refresh due now? Taking one restarts the clock."""
        if now - self.last < (self.busy_s if pending else self.idle_s):
            return False
        self.last = now
        return True


class PartyRegistryReader:
    """Publishes what the book registered, then reads what was added since the last call."""

    def __init__(self, settings: Settings, book: PartyBook) -> None:
        self.settings = settings
        self.book = book
        self.topics = [settings.topics.party_registry, settings.topics.party_merges]
        self.positions: dict[Any, int] = {}
        self.incarnation = uuid.uuid4().hex.encode()
        self._mark = [(REGISTRY_WRITER_HEADER, self.incarnation)]
        self._own: dict[TopicPartition, dict[int, RegistryEvent]] = {}
        """What this reader published and has not read back: partition → offset → event."""
        self._producer: Any = None
        self._reader: Any = None

    def publish_pending(self) -> int:
        pending = self.book.take_pending()
        if not pending:
            return 0
        try:
            if self._producer is None:
                self._producer = kafka_producer(self.settings.kafka, acks="all", **PRODUCER_TUNING)
            sent = publish(self.settings, self._producer, pending, "resolver", self._mark)
        except Exception:
            self.book.give_back(pending)
            raise
        for event, record in zip(pending, sent, strict=True):
            self._own.setdefault(TopicPartition(record.topic, record.partition), {})[
                record.offset
            ] = event
        return len(pending)

    def has_pending(self) -> bool:
        """Has the book registered something this reader has not published yet?"""
        return bool(self.book.pending)

    def refresh(self, poll_ms: int = 500) -> int:
        """Read, then publish what this worker registered; how many events were read.
        Reading first lets a split that arrived meanwhile drop the merge it undoes."""
        read = self._read(poll_ms)
        self.publish_pending()
        return read

    def _read(self, poll_ms: int) -> int:
        """Fold in what was published since the last read. The positions move only once
        the events are folded in: a read that fails is read again next time.

        A partition is read until its position reaches the end the broker reports, with no
        probe of the true end (``ingest/broker/reader.py``): Apache Kafka reports the offset
        after the last record; Tansu the base offset of the last record batch plus one, and
        as a fetch brings whole batches, a position past that has read the last batch whole.
        The consumer stays open between reads (it holds no group); one that failed, or that
        found none of the topics, is closed and made again the next time."""
        consumer = self._consumer()
        read: list[RegistryEvent] = []
        positions = dict(self.positions)
        try:
            partitions = partitions_of(consumer, self.topics)
            if not partitions:
                self._close_consumer()  # its metadata may predate the topics
                return 0
            ends: dict[TopicPartition, int] = consumer.end_offsets(partitions)
            for tp in partitions:
                self._own_run(tp, positions, read)
            todo = [tp for tp in partitions if positions.get(tp, 0) < ends[tp]]
            consumer.assign(todo)
            for tp in todo:
                consumer.seek(tp, positions.get(tp, 0))
            while todo and any(positions.get(tp, 0) < ends[tp] for tp in todo):
                batches = consumer.poll(timeout_ms=poll_ms)
                if not batches:
                    break
                for tp, records in batches.items():
                    for record in records:
                        if record.offset < positions.get(tp, 0):
                            continue
                        positions[tp] = record.offset + 1
                        event = self._own_event(tp, record)
                        if event is None:
                            event = self._decode(tp.topic, record.value)
                        if event is not None:
                            read.append(event)
        except Exception:
            self._close_consumer()
            raise
        # names and identifiers before merges, so a merge never names an unknown party
        read.sort(key=lambda e: e.kind in ("merge", "split"))
        self.book.apply(read)
        self.positions = positions
        self._forget_read()
        return len(read)

    def _consumer(self) -> Any:
        if self._reader is None:
            self._reader = new_consumer(self.settings)
        return self._reader

    def _close_consumer(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            try:
                reader.close()
            except Exception as exc:  # closing a broken client: nothing more to do with it
                log.warning("party registry reader not closed cleanly", extra={"error": exc})

    def _own_run(
        self, tp: TopicPartition, positions: dict[Any, int], read: list[RegistryEvent]
    ) -> None:
        """This reader's own events from the partition's position on, up to the first
        offset it did not publish, taken from memory: not fetched. The broker acknowledged
        each at its offset, so they are in the log there, whatever end it reports."""
        own = self._own.get(tp)
        if not own:
            return
        position = positions.get(tp, 0)
        while position in own:
            read.append(own[position])
            position += 1
        positions[tp] = position

    def _own_event(self, tp: TopicPartition, record: Any) -> RegistryEvent | None:
        """The event this reader published at the record's offset, when the record carries
        its mark (else None: the record is decoded)."""
        own = self._own.get(tp)
        event = own.get(record.offset) if own else None
        if event is None or not any(
            key == REGISTRY_WRITER_HEADER and bytes(value) == self.incarnation
            for key, value in record.headers or ()
        ):
            return None
        return event

    def _forget_read(self) -> None:
        """Drop the own events the positions have passed."""
        for tp, own in self._own.items():
            position = self.positions.get(tp, 0)
            for offset in [o for o in own if o < position]:
                del own[offset]

    def _decode(self, topic: str, value: bytes) -> RegistryEvent | None:
        try:
            if topic == self.settings.topics.party_merges:
                return from_merge(PARTY_MERGE.decode(value))
            return from_registry(PARTY_REGISTRY.decode(value))
        except Undecodable as exc:  # not ours to judge: the sink dead-letters the merges
            log.warning("party event not read", extra={"topic": topic, "error": exc})
            return None

    def close(self) -> None:
        self._close_consumer()
        if self._producer is not None:
            self._producer.close()
            self._producer = None
