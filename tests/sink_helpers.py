"""What the sink's integration and reliability tests share: their settings and topics, the
warehouse, enriched batches as the enrich agent writes them, and waiting for a condition."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from ingest.broker.admin import create_topics, delete_topics
from ingest.broker.clients import kafka_producer
from ingest.synthetic import synthetic_lines
from schemas.dead_letter import DeadLetter
from schemas.declaration import Declaration, RawRef
from schemas.enriched import (
    BATCH_HEADER,
    WRITER_HEADER,
    EnrichedBatch,
    batch_header,
    writer_mark,
)
from schemas.rule_data import load_rules
from schemas.settings import Settings
from stream.stages.enrich import Enricher
from stream.warehouse.async_client import AsyncWarehouse

LINES_PER_MESSAGE = 50


@pytest.fixture(name="settings")
def sink_settings(bootstrap: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings with small, fast sink batches and their own topics, deleted afterwards.
    A test module takes this and ``warehouse`` by importing them."""
    tag = uuid.uuid4().hex[:8]
    s = Settings(
        kafka={"bootstrap": bootstrap},
        topics={"prefix": f"k{tag}", "partitions": 2},
        worker={"app_id": f"sink-{tag}"},
        clickhouse={"dsn": f"chdb://{tmp_path / 'ch'}"},
        ingest={"state_dir": tmp_path / "state"},
        sink={"max_rows": 400, "max_wait_s": 0.3, "retry_max_s": 0.5},
    )
    create_topics(s)
    try:
        yield s
    finally:
        delete_topics(s, s.topics.all_names())


@pytest.fixture(name="warehouse")
def migrated_warehouse(settings: Settings) -> Iterator[AsyncWarehouse]:
    wh = AsyncWarehouse(settings.clickhouse)
    wh.migrate()
    try:
        yield wh
    finally:
        wh.close()


def enriched_messages(
    count: int,
    seed: int,
    change: Callable[[Declaration, int], Declaration] | None = None,
) -> list[tuple[bytes, bytes]]:
    """``count`` lines as enriched batches of LINES_PER_MESSAGE; raw offsets 0, 1, 2… as
    after a fresh topic. ``change`` rewrites line n before it is enriched."""
    enricher = Enricher(load_rules())
    lines = [Declaration.model_validate(x) for x in synthetic_lines(count, seed=seed)]
    if change is not None:
        lines = [change(line, n) for n, line in enumerate(lines)]
    out = []
    for n, start in enumerate(range(0, count, LINES_PER_MESSAGE)):
        chunk = lines[start : start + LINES_PER_MESSAGE]
        ref = RawRef(topic="raw.jsonl", partition=0, offset=n)
        batch = EnrichedBatch(source="test", raw=ref, lines=enricher.lines(chunk, ref).lines)
        out.append((chunk[0].declaration_id.encode(), batch.model_dump_json().encode()))
    return out


def publish(
    settings: Settings, messages: list[tuple[bytes, bytes]], marked: bool | str = False
) -> None:
    """``marked``: with the headers the worker writes (the writer mark and the batch header:
    the sink then hands their lines to ClickHouse unread); ``"alternate"``: the messages in
    turn as the worker writes them, with the writer mark alone (as a worker before the
    batch header did: the sink reads the lines, then sends them as JSON) and with neither,
    so batches mix all three kinds."""
    producer = kafka_producer(settings.kafka, acks="all", linger_ms=5)
    for n, (key, value) in enumerate(messages):
        kind = n % 3 if marked == "alternate" else (0 if marked is True else 2)
        headers = [(WRITER_HEADER, writer_mark())] if kind < 2 else []
        if kind == 0:
            outline = batch_header(EnrichedBatch.model_validate_json(value))
            headers.append((BATCH_HEADER, outline))
        producer.send(settings.topics.enriched, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def totals(wh: AsyncWarehouse) -> tuple[int, int]:
    """Rows in ``declarations`` and distinct (declaration, line) keys among them."""
    rows = wh.sync.query(
        "SELECT count(), uniqExact(declaration_id, line_no) FROM declarations"
    ).rows
    return int(rows[0][0]), int(rows[0][1])


class Letters:
    """A dead-letter sink that keeps what it is sent."""

    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []

    async def __call__(self, letters: list[DeadLetter]) -> None:
        self.sent.extend(letters)


async def until(check: Callable[[], Awaitable[object]], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")
