"""The sink's consumer loop: topic-partition batches into ClickHouse, committed after the ack.

One aiokafka consumer in its own group (``<app id>-sink``) reads the enriched lines, the
alert versions and the dead letters. For each batch the loop:

1. records the batch plan (range, kept upstream messages, topic incarnation) in
   ``sink_batches``;
2. inserts the rows with the plan's token as ``insert_deduplication_token``; when ClickHouse
   says the data is wrong, finds the wrong rows by halving (``bisect``) and inserts the rest;
3. sends dead letters for messages that could not be decoded and for the wrong rows (one
   letter per message, naming its refused lines), marks the plan landed, then commits
   ``last offset + 1``.

A crash between any two steps replays the range from the committed offset with the same plan:
a landed plan is not inserted again, another carries the same token, so ClickHouse drops
what already landed (see ``plans``). Any error that is not the data's fault (resources,
authentication, connectivity, server state; see stream/warehouse/error_codes.py) pauses
every assigned partition; the loop retries with capped exponential backoff and resumes when
the insert passes; nothing is dropped or skipped.

On a rebalance, revoked partitions are forgotten at once: their open batches were never
committed, so the next owner reads them again and rebuilds any planned range. A retry loop
stops retrying for a partition it no longer owns, and the revocation waits for the step in
flight, so a plan is never written after the next owner loaded the plans.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from ingest.broker.clients import aiokafka_consumer_config
from schemas.dead_letter import DeadLetter
from schemas.enriched import BATCH_HEADER, WRITER_HEADER, writer_mark
from schemas.raw import REPLAY_HEADER
from schemas.settings import Settings
from stream.errors import WarehouseRejected, WarehouseUnavailable
from stream.metrics import definitions as metrics
from stream.sink.batcher import Batch, PartitionBatcher, SinkRecord
from stream.sink.bisect import refused_rows, sub_token
from stream.sink.incarnation import topic_ids
from stream.sink.plan_store import mark_landed, plans_from, recent_identities, record_plan
from stream.sink.plans import Plan
from stream.sink.tables import Decoded, JsonLines, SinkTable, replayed_identity, sink_tables
from stream.warehouse.async_client import AsyncWarehouse

log = logging.getLogger(__name__)
T = TypeVar("T")
STAGE = "sink"
PLANS_LOADED = 10_000  # planned ranges loaded per partition at assignment (replays)

SendDeadLetters = Callable[[list[DeadLetter]], Awaitable[None]]
TopicIds = Callable[[list[str]], dict[str, str]]


class Revoked(Exception):
    """The partition was revoked while its batch was in flight; the next owner replays it."""


@dataclass(slots=True)
class SinkStats:
    batches: int = 0
    rows: int = 0
    dropped: int = 0
    replayed: int = 0
    dead_letters: int = 0
    refused_rows: int = 0
    retries: int = 0
    paused_s: float = 0.0


def sink_group(settings: Settings) -> str:
    return f"{settings.worker.app_id}-sink"


def consumer_config(settings: Settings) -> dict[str, Any]:
    kafka = settings.kafka
    return aiokafka_consumer_config(
        kafka,
        client_id=f"{kafka.client_id}-sink",
        group_id=sink_group(settings),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=kafka.session_timeout_ms,
        heartbeat_interval_ms=kafka.heartbeat_interval_ms,
        fetch_max_wait_ms=kafka.fetch_max_wait_ms,
        max_partition_fetch_bytes=settings.topics.max_message_bytes,
        fetch_max_bytes=max(52_428_800, settings.topics.max_message_bytes),
    )


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._sink.revoke(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._sink.assign(assigned)


class Sink:
    def __init__(
        self,
        settings: Settings,
        warehouse: AsyncWarehouse,
        send_dead_letters: SendDeadLetters,
        consumer_factory: Callable[..., AIOKafkaConsumer] = AIOKafkaConsumer,
        incarnations: TopicIds | None = None,
        alongside_agents: bool = False,
    ) -> None:
        """``alongside_agents``: this sink shares a worker's event loop with the stream
        agents, so it keeps batches short (``max_wait_s`` even when behind)."""
        self._settings = settings
        self._sink = settings.sink
        self._max_wait_behind_s = (
            self._sink.max_wait_s if alongside_agents else self._sink.max_wait_behind_s
        )
        self._warehouse = warehouse
        self._send_dead_letters = send_dead_letters
        self._tables = sink_tables(settings.topics)
        self._consumer_factory = consumer_factory
        self._incarnations = incarnations or (lambda names: topic_ids(settings.kafka, names))
        self._consumer_or_none: AIOKafkaConsumer | None = None  # made in run(): needs the loop
        self._batchers: dict[TopicPartition, PartitionBatcher] = {}
        self._step = asyncio.Lock()  # one plan/insert/commit step at a time
        self._stopping = asyncio.Event()
        self.stats = SinkStats()
        self.paused = False

    def why_not_ready(self) -> str | None:
        """For ``/readyz``: None while consuming an assignment with ClickHouse reachable."""
        if self._consumer_or_none is None or self._stopping.is_set():
            return "sink not running"
        if not self._consumer_or_none.assignment():
            return "no partition assigned (yet, or more sinks than partitions)"
        if self.paused:
            return "paused: ClickHouse unavailable"
        return None

    @property
    def _consumer(self) -> AIOKafkaConsumer:
        if self._consumer_or_none is None:
            raise RuntimeError("the sink is not running")
        return self._consumer_or_none

    # -- group membership ---------------------------------------------------------------
    async def assign(self, assigned: set[TopicPartition]) -> None:
        # Nothing to do yet: a partition's batcher is set up when its first records arrive,
        # from the first offset read (the committed one), outside the rebalance callback.
        log.info("sink partitions assigned", extra={"partitions": len(assigned)})
        metrics.SINK_ASSIGNED.set(len(assigned))

    async def _batcher(self, tp: TopicPartition, start: int) -> PartitionBatcher:
        incarnation = await self._incarnation(tp.topic)
        plans, seen = await self._warehouse.run(self._history(tp, start, incarnation))
        batcher = PartitionBatcher(
            tp.topic,
            tp.partition,
            self._sink.max_rows,
            self._sink.max_wait_s,
            self._sink.dedup_memory,
            replays=plans,
            seen=seen,
            incarnation=incarnation,
            max_wait_behind_s=self._max_wait_behind_s,
        )
        log.info(
            "sink partition started",
            extra={
                "topic": tp.topic,
                "partition": tp.partition,
                "from_offset": start,
                "incarnation": incarnation or "-",
                "replays": len(plans),
                "remembered": len(seen),
            },
        )
        return batcher

    async def _incarnation(self, topic: str) -> str:
        """The topic's id now (see plans.py), asked of the broker until it answers."""
        delay = 0.2
        loop = asyncio.get_running_loop()
        while True:
            try:
                ids = await loop.run_in_executor(None, self._incarnations, [topic])
                return ids.get(topic, "")
            except Exception as exc:  # any client error: the broker is away for now
                log.warning("topic id lookup failed; retrying", extra={"error": str(exc)[:300]})
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._sink.retry_max_s)

    def _history(
        self, tp: TopicPartition, start: int, incarnation: str
    ) -> Callable[[], tuple[list[Plan], list[str]]]:
        """Plans to replay from ``start`` on, and the upstream messages recently written."""
        sync, memory = self._warehouse.sync, self._sink.dedup_memory

        def load() -> tuple[list[Plan], list[str]]:
            plans = plans_from(sync, tp.topic, tp.partition, incarnation, start, PLANS_LOADED)
            return plans, recent_identities(sync, tp.topic, tp.partition, memory)

        return load

    async def revoke(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:
            self._batchers.pop(tp, None)
        async with self._step:  # the step in flight finishes (or gives up) first
            pass
        if revoked:
            log.info("sink partitions revoked", extra={"partitions": len(revoked)})
            metrics.SINK_ASSIGNED.set(len(self._consumer.assignment() - revoked))

    # -- the loop ----------------------------------------------------------------------------
    async def run(self) -> None:
        consumer = self._consumer_or_none = self._consumer_factory(
            **consumer_config(self._settings)
        )
        consumer.subscribe(list(self._tables), listener=_Listener(self))
        await consumer.start()
        last_records_at = float("-inf")
        try:
            while not self._stopping.is_set():
                fetched = await consumer.getmany(timeout_ms=100)
                now = time.monotonic()
                for tp, messages in fetched.items():
                    if not messages or tp not in consumer.assignment():
                        continue  # revoked meanwhile: not committed, the next owner reads it
                    batcher = self._batchers.get(tp)
                    if batcher is not None and messages[0].offset <= batcher.last_offset:
                        # Offsets went back: the topic was deleted and created again under
                        # us. Start over with the new incarnation; the open batch was never
                        # committed and its topic is gone.
                        log.warning(
                            "sink partition restarted at a lower offset; topic recreated?",
                            extra={"partition": str(tp), "offset": messages[0].offset},
                        )
                        batcher = None
                    if batcher is None:
                        batcher = self._batchers[tp] = await self._batcher(tp, messages[0].offset)
                    for message in messages:
                        if self._batchers.get(tp) is not batcher:
                            break  # revoked while a batch was written
                        record = self._decode(
                            tp.topic, message.offset, message.value, message.headers
                        )
                        for batch in batcher.add(record, now):
                            await self._flush(tp, batcher, batch)
                behind = {tp for tp, messages in fetched.items() if messages}
                if behind:
                    last_records_at = now
                await self._flush_due(time.monotonic(), behind, last_records_at)
            await self._flush_due(float("inf"))  # stopping: write what is open
        finally:
            await consumer.stop()
            log.info("sink stopped", extra=_stats(self.stats))

    def stop(self) -> None:
        self._stopping.set()

    async def _flush_due(
        self,
        now: float,
        behind: set[TopicPartition] | None = None,
        last_records_at: float = float("-inf"),
    ) -> None:
        """Write every open batch old enough at ``now``; those of ``behind`` partitions (the
        last fetch brought records) may grow for longer, and so may batches opened under
        sustained load while records keep coming (some arrived within ``max_wait_s``)."""
        flowing = now - last_records_at <= self._sink.max_wait_s
        for tp, batcher in list(self._batchers.items()):
            due = batcher.due(now, behind is not None and tp in behind, flowing)
            if due is not None:
                await self._flush(tp, batcher, due)

    def _decode(
        self, topic: str, offset: int, value: bytes | None, headers: Any = ()
    ) -> SinkRecord:
        body = value or b""
        table = self._tables[topic]
        headers = [(key, bytes(header)) for key, header in headers or ()]
        decoded: Decoded | None = None
        if table.decode_marked is not None and (WRITER_HEADER, writer_mark()) in headers:
            outline = next((h for key, h in headers if key == BATCH_HEADER), None)
            if outline is not None and table.decode_passthrough is not None:
                try:
                    decoded = table.decode_passthrough(body, outline)
                except Exception:  # not what the header promised: read the lines instead
                    decoded = None
            if decoded is None:
                try:
                    decoded = table.decode_marked(body)
                except Exception:  # not what the mark promised: the full reading says why
                    decoded = None
        try:
            identity, rows = decoded if decoded is not None else table.decode(body)
        except ValueError as exc:
            return SinkRecord(offset, None, (), body, error=str(exc))
        for key, header in headers:
            if key == REPLAY_HEADER:
                identity = replayed_identity(identity, header.decode("ascii", "replace"))
        return SinkRecord(offset, identity, rows, body)

    # -- one batch ---------------------------------------------------------------------------
    async def _flush(self, tp: TopicPartition, batcher: PartitionBatcher, batch: Batch) -> None:
        table = self._tables[tp.topic]
        plan = batch.plan
        sync = self._warehouse.sync
        started = time.monotonic()
        async with self._step:
            try:
                if plan.landed:  # a replayed range ClickHouse already acknowledged
                    self._owned(tp, batcher)
                    await self._commit(tp, plan.next_offset)
                    self.stats.replayed += 1
                    metrics.observe_sink_batch(table.table, 0, 0.0, replayed=True)
                    return
                letters: list[DeadLetter] = []
                if batch.row_count:
                    await self._until_done(
                        tp, batcher, lambda: record_plan(sync, plan, table.table)
                    )
                    refused = await self._until_done(
                        tp, batcher, lambda: self._insert(tp, table, batch)
                    )
                    letters.extend(self._refused(tp, table, batch, refused))
                # after the insert: a refused batch's unread messages that fail a full
                # reading join the failures (Sink._read_in_full)
                letters.extend(self._letter(tp, r, r.error or "") for r in batch.failures)
                if letters:
                    await self._send_dead_letters(letters)
                    self.stats.dead_letters += len(letters)
                    for letter in letters:
                        metrics.observe_dead_letter(letter.stage, letter.reason)
                if batch.row_count:
                    await self._until_done(
                        tp, batcher, lambda: mark_landed(sync, plan, table.table)
                    )
                self._owned(tp, batcher)
                await self._commit(tp, plan.next_offset)
            except Revoked:
                log.info("sink batch abandoned: partition revoked", extra={"token": plan.token})
                return
        self.stats.batches += 1
        rows = batch.row_count
        self.stats.rows += rows
        if rows:
            elapsed = time.monotonic() - started
            metrics.observe_sink_batch(table.table, rows, elapsed, replayed=False)
        self.stats.dropped += plan.dropped if not batch.replayed else 0
        self.stats.replayed += batch.replayed
        log.debug(
            "sink batch",
            extra={"token": plan.token, "rows": rows, "replayed": batch.replayed},
        )

    def _insert(self, tp: TopicPartition, table: SinkTable, batch: Batch) -> list[tuple[int, str]]:
        """Insert the batch (ClickHouse thread); on a data error insert the rows that pass
        and return the refused ones (index, reason). An outage propagates: it is retried
        whole, and the sub-inserts that landed are dropped by their tokens. A batch sent as
        JSON (``SinkTable.json``) that is refused is searched as rows built in Python, so
        the rows refused and their reasons are those of the row path."""
        sync, token = self._warehouse.sync, batch.plan.token
        try:
            body = _json_body(batch.records) if table.json is not None else None
            if body is not None and table.json is not None:
                sync.insert_json_batch(tp.topic, tp.partition, table.table, table.json, body, token)
            else:  # rows built in Python: unread lines are read (and validated) first
                _read_in_full(table, batch)
                if not batch.records:
                    return []
                columns = table.rows_in_python(batch.rows)
                sync.insert_batch(
                    tp.topic, tp.partition, table.table, columns, table.columns, token
                )
            return []
        except WarehouseRejected as exc:
            log.warning(
                "clickhouse refused a batch as wrong; looking for the rows",
                extra={"token": token, "rows": batch.row_count, "error": str(exc)[:300]},
            )
            _read_in_full(table, batch)
            in_python = table.rows_in_python(batch.rows)

            def insert(lo: int, hi: int) -> None:
                sync.insert_batch(
                    tp.topic,
                    tp.partition,
                    table.table,
                    in_python[lo:hi],
                    table.columns,
                    sub_token(token, lo, hi),
                )

            return refused_rows(len(in_python), insert, str(exc))

    def _refused(
        self,
        tp: TopicPartition,
        table: SinkTable,
        batch: Batch,
        refused: list[tuple[int, str]],
    ) -> list[DeadLetter]:
        """One letter per message with refused rows: its original bytes, the lines refused
        (``context.lines``, what ``deadletter replay`` sends back) and the reason."""
        if not refused:
            return []
        self.stats.refused_rows += len(refused)
        origins = batch.row_origins()
        by_record: dict[int, tuple[SinkRecord, list[int], str]] = {}
        for index, reason in refused:
            record, line = origins[index]
            _, lines, _ = by_record.setdefault(record.offset, (record, [], reason))
            lines.append(line)
        letters = []
        for record, lines, reason in by_record.values():
            text = f"ClickHouse refused line(s) {lines} of {table.table}: {reason}"
            if not table.dead_letter_rejects:
                log.error(
                    "sink rows refused; the records stay on their topic",
                    extra={"partition": str(tp), "offset": record.offset, "reason": text[:500]},
                )
                continue
            letters.append(self._letter(tp, record, text, {"lines": lines}))
        return letters

    def _letter(
        self,
        tp: TopicPartition,
        record: SinkRecord,
        reason: str,
        context: dict[str, Any] | None = None,
    ) -> DeadLetter:
        return DeadLetter(
            source=tp.topic,
            origin=f"{tp.topic}/{tp.partition}",
            position=record.offset,
            stage=STAGE,
            reason=reason,
            payload=record.value,
            topic=tp.topic,
            partition=tp.partition,
            offset=record.offset,
            context=context or {},
        )

    def _owned(self, tp: TopicPartition, batcher: PartitionBatcher) -> None:
        if self._batchers.get(tp) is not batcher:
            raise Revoked(str(tp))

    async def _until_done(
        self, tp: TopicPartition, batcher: PartitionBatcher, call: Callable[[], T]
    ) -> T:
        """Run ``call`` on the ClickHouse thread until it passes. While ClickHouse is
        unavailable every assigned partition is paused, so the consumer stops fetching."""
        delay = 0.2
        paused_at: float | None = None
        try:
            while True:
                self._owned(tp, batcher)
                try:
                    return await self._warehouse.run(call)
                except WarehouseUnavailable as exc:
                    self.stats.retries += 1
                    metrics.observe_clickhouse_error(exc)
                    if paused_at is None:
                        paused_at = time.monotonic()
                        self._pause()
                    log.warning(
                        "clickhouse unavailable; sink paused, retrying",
                        extra={"retry_in_s": round(delay, 2), "error": str(exc)[:300]},
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._sink.retry_max_s)
        finally:
            if paused_at is not None:
                self.stats.paused_s += time.monotonic() - paused_at
                self._resume()

    def _pause(self) -> None:
        self.paused = True
        metrics.SINK_PAUSED.set(1)
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.pause(*assignment)

    def _resume(self) -> None:
        self.paused = False
        metrics.SINK_PAUSED.set(0)
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.resume(*assignment)
        log.info("clickhouse back; sink resumed")

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        try:
            await self._consumer.commit({tp: offset})
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            # The rows are in ClickHouse; whoever reads the range next replays its plan and
            # ClickHouse drops the copy.
            log.warning("sink commit failed", extra={"partition": str(tp), "error": str(exc)})


def _json_body(records: list[SinkRecord]) -> bytes | None:
    """The batch as one JSON array for ClickHouse, when every row is a JSON object: the
    lines left unread (:class:`JsonLines`) as their bytes, the others written; None: the
    batch goes as rows."""
    parts: list[bytes] = []
    for record in records:
        rows = record.rows
        if type(rows) is JsonLines:
            parts.append(rows.array[1:-1])
        elif all(type(row) is dict for row in rows):
            parts.append(orjson.dumps(rows)[1:-1])
        else:
            return None
    return b"[" + b",".join(part for part in parts if part) + b"]"


def _read_in_full(table: SinkTable, batch: Batch) -> None:
    """Before a refused batch is searched row by row: each message whose lines were left
    unread is read with the table's full reading, so its rows are the validated ones and a
    message that is not what its header said becomes a failure (a dead letter with the
    reason) instead of rows."""
    records: list[SinkRecord] = []
    for record in batch.records:
        if type(record.rows) is not JsonLines:
            records.append(record)
            continue
        try:
            _, rows = table.decode(record.value)
        except ValueError as exc:
            batch.failures.append(replace(record, rows=(), error=str(exc)))
            continue
        records.append(replace(record, rows=rows))
    batch.records = records


def _stats(stats: SinkStats) -> dict[str, Any]:
    return {
        "batches": stats.batches,
        "rows": stats.rows,
        "dropped": stats.dropped,
        "replayed": stats.replayed,
        "dead_letters": stats.dead_letters,
        "refused_rows": stats.refused_rows,
        "retries": stats.retries,
        "paused_s": round(stats.paused_s, 1),
    }
