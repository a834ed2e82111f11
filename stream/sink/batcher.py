"""Cuts one topic-partition's records into batches for the sink. Pure: no I/O, no clock.

A batch closes when it holds ``max_rows`` rows or its first record is ``max_wait_s`` old
(``max_wait_behind_s`` while its partition still has records coming, or, while the sink
keeps receiving records, when the batch opened within ``max_wait_behind_s`` of the
partition's previous record: under sustained load larger inserts cost ClickHouse far less,
as each insert writes a part per table and materialised view whatever its size; a record
after a quiet spell, and the last batches once the feed stops, go at ``max_wait_s``).
Two things make a batch the same on every attempt:

* **Planned ranges replay exactly.** Plans loaded at assignment (ranges at or past the
  committed offset, written by an earlier attempt) are rebuilt record for record, whatever
  the size and time bounds say now, keeping exactly the upstream messages the plan kept.
* **Redelivered upstream messages are dropped.** Stages before the sink deliver at least
  once, so after a stage restarts the same upstream message (same ``identity``, e.g. the raw
  message an enriched batch came from) can arrive again at a new offset. The batcher
  remembers the identities of recent batches and keeps only the first copy.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stream.sink.plans import Plan

Row = Sequence[Any] | dict[str, Any]
"""A row's column values, or a JSON object ClickHouse builds the row from (sink.tables)."""


@dataclass(frozen=True, slots=True)
class SinkRecord:
    """One consumed message: its offset, upstream identity (None: never a duplicate), rows,
    and its bytes (kept to dead-letter it if ClickHouse refuses the batch). ``error`` says
    why a message could not be decoded; it has no rows and is dead-lettered."""

    offset: int
    identity: str | None
    rows: Sequence[Row]
    value: bytes = b""
    error: str | None = None


@dataclass(slots=True)
class Batch:
    plan: Plan
    records: list[SinkRecord]
    failures: list[SinkRecord]
    replayed: bool = False

    @property
    def row_count(self) -> int:
        return sum(len(record.rows) for record in self.records)

    @property
    def rows(self) -> list[Row]:
        """Every record's rows, in order (reads rows a record left unread, sink.tables)."""
        return [row for record in self.records for row in record.rows]

    def row_origins(self) -> list[tuple[SinkRecord, int]]:
        """For each row, the record it came from and its index among that record's rows."""
        return [(record, i) for record in self.records for i in range(len(record.rows))]


class Memory:
    """A bounded set of identities, oldest forgotten first."""

    def __init__(self, capacity: int, initial: Iterable[str] = ()) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, None] = OrderedDict()
        for identity in initial:
            self.add(identity)

    def __contains__(self, identity: object) -> bool:
        return identity in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, identity: str) -> None:
        self._items[identity] = None
        self._items.move_to_end(identity)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)


@dataclass(slots=True)
class _Open:
    first_offset: int
    opened_at: float
    last_offset: int = -1
    rows: int = 0
    records: list[SinkRecord] = field(default_factory=list)
    failures: list[SinkRecord] = field(default_factory=list)
    identities: list[str] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)
    dropped: int = 0
    busy: bool = False  # opened while records kept coming: may grow to max_wait_behind_s


class PartitionBatcher:
    def __init__(
        self,
        topic: str,
        partition: int,
        max_rows: int,
        max_wait_s: float,
        memory: int,
        replays: Iterable[Plan] = (),
        seen: Iterable[str] = (),
        incarnation: str = "",
        max_wait_behind_s: float | None = None,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.incarnation = incarnation
        self.last_offset = -1  # the last offset taken
        self._max_rows = max_rows
        self._max_wait_s = max_wait_s
        self._max_wait_behind_s = max(max_wait_behind_s or max_wait_s, max_wait_s)
        self._replays = deque(sorted(replays, key=lambda p: p.first_offset))
        self._seen = Memory(memory, seen)
        self._open: _Open | None = None
        self._replaying: Plan | None = None
        self._last_arrival: float | None = None

    @property
    def pending_rows(self) -> int:
        return self._open.rows if self._open else 0

    @property
    def replays_left(self) -> int:
        return len(self._replays) + (self._replaying is not None)

    def add(self, record: SinkRecord, now: float) -> list[Batch]:
        """Take the next record (offsets increase); return the batches it closed."""
        if record.offset <= self.last_offset:
            raise ValueError(f"offset {record.offset} after {self.last_offset}: not increasing")
        self.last_offset = record.offset
        closed: list[Batch] = []
        if self._open and self._replaying and record.offset > self._replaying.last_offset:
            closed.append(self._close())  # the range's last records were gone: close it
        while self._replays and self._replays[0].last_offset < record.offset:
            self._replays.popleft()  # a range this partition is already past
        plan = self._replays[0] if self._replays else None
        if plan and plan.first_offset <= record.offset and self._replaying is not plan:
            if self._open:
                closed.append(self._close())
            self._replaying = plan
        if self._open is None:
            previous = self._last_arrival
            busy = previous is not None and now - previous <= self._max_wait_behind_s
            self._open = _Open(first_offset=record.offset, opened_at=now, busy=busy)
        self._last_arrival = now
        self._take(record)
        if self._replaying:
            if record.offset >= self._replaying.last_offset:
                closed.append(self._close())
        elif self._open.rows >= self._max_rows:
            closed.append(self._close())
        return closed

    def due(self, now: float, behind: bool = False, flowing: bool = False) -> Batch | None:
        """The open batch if it is old enough to go (never a replayed range: it must be
        whole); ``behind``: this partition's records are still coming, so it may grow for
        longer; ``flowing``: the sink received records lately, so a batch opened under
        sustained load may grow too (once the feed stops it goes at the usual age)."""
        batch = self._open
        if batch is None or self._replaying is not None:
            return None
        grows = behind or (flowing and batch.busy)
        if now - batch.opened_at < (self._max_wait_behind_s if grows else self._max_wait_s):
            return None
        return self._close()

    def _take(self, record: SinkRecord) -> None:
        batch = self._open
        assert batch is not None
        batch.last_offset = record.offset
        if record.error is not None:
            batch.failures.append(record)
            return
        identity = record.identity
        if identity is not None:
            if self._replaying is not None:
                keep = identity in self._replaying.identities and identity not in batch.kept
            else:
                keep = identity not in self._seen and identity not in batch.kept
            if not keep:
                batch.dropped += 1
                return
            batch.kept.add(identity)
            batch.identities.append(identity)
        batch.rows += len(record.rows)
        batch.records.append(record)

    def _close(self) -> Batch:
        batch, replaying = self._open, self._replaying
        assert batch is not None
        self._open = None
        if replaying is not None:
            self._replaying = None
            if self._replays and self._replays[0] is replaying:
                self._replays.popleft()
            plan = replaying
        else:
            plan = Plan(
                topic=self.topic,
                partition=self.partition,
                first_offset=batch.first_offset,
                last_offset=batch.last_offset,
                identities=tuple(batch.identities),
                rows=batch.rows,
                dropped=batch.dropped,
                incarnation=self.incarnation,
            )
        for identity in batch.identities:
            self._seen.add(identity)
        return Batch(
            plan=plan,
            records=batch.records,
            failures=batch.failures,
            replayed=replaying is not None,
        )
