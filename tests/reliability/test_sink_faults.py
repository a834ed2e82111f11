"""The sink under faults, on the real broker and the real embedded ClickHouse (issue 14,
items 3–6): topics deleted and created again under the same ClickHouse, a row ClickHouse
refuses among good ones and the replay of its dead letter, a real disk-space refusal, a
batch spanning more than a hundred years.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from datetime import date

import pytest

from ingest.broker.admin import group_lag
from ingest.broker.clients import kafka_producer
from ingest.replay import ReplayMemory
from schemas.declaration import Declaration
from schemas.enriched import BATCH_HEADER, WRITER_HEADER, EnrichedBatch, batch_header, writer_mark
from schemas.settings import Settings
from stream.sink.service import Sink, sink_group
from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.rows import DECLARATION_COLUMNS, declaration_row
from tests.services import CLI
from tests.sink_helpers import (
    LINES_PER_MESSAGE,
    Letters,
    enriched_messages,
    migrated_warehouse,  # noqa: F401 (the warehouse fixture)
    publish,
    sink_settings,  # noqa: F401 (the settings fixture)
    totals,
    until,
)

pytestmark = pytest.mark.integration


def sink_until(
    settings: Settings,
    wh: AsyncWarehouse,
    rows: tuple[int, int],
    letters: Letters | None = None,
    during: Callable[[Sink], object] | None = None,
) -> Sink:
    """Run a sink until ``rows`` are in ClickHouse and its group has no lag, then stop it."""

    async def scenario() -> Sink:
        sink = Sink(settings, wh, letters or Letters())
        task = asyncio.create_task(sink.run())
        if during is not None:
            await during(sink)  # type: ignore[misc]

        async def done() -> bool:
            lag = await asyncio.get_running_loop().run_in_executor(
                None, group_lag, settings, sink_group(settings), [settings.topics.enriched]
            )
            return lag.get(settings.topics.enriched) == 0 and (
                await wh.run(lambda: totals(wh)) == rows
            )

        try:
            await until(done, 45, f"{rows} rows and every offset committed")
            await asyncio.sleep(0.5)  # nothing more lands later
        finally:
            sink.stop()
            await task
        return sink

    return asyncio.run(scenario())


def cli(settings: Settings, *args: str) -> None:
    env = {
        **os.environ,
        "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "CUSTOMS_WATCH_TOPICS_PREFIX": settings.topics.prefix,
        "CUSTOMS_WATCH_TOPICS_PARTITIONS": str(settings.topics.partitions),
    }
    subprocess.run([CLI, *args], env=env, check=True, capture_output=True, timeout=60)


def test_topics_deleted_and_created_again_lose_nothing_and_double_nothing(
    settings: Settings, warehouse: AsyncWarehouse
) -> None:
    """Item 4: offsets start again at 0, ClickHouse keeps the plans, tokens and the sink's
    memory of raw messages; B used to be dropped as copies of A."""
    publish(settings, enriched_messages(1000, seed=41))
    sink_until(settings, warehouse, (1000, 1000))

    cli(settings, "topics", "delete", "--yes")
    cli(settings, "topics", "create")

    def other_file(line: Declaration, n: int) -> Declaration:
        return line.model_copy(update={"declaration_id": f"B-{line.declaration_id}"})

    # B: other lines at the same raw offsets and the same enriched offsets as A
    publish(settings, enriched_messages(1000, seed=42, change=other_file))
    sink = sink_until(settings, warehouse, (2000, 2000))
    assert sink.stats.dropped == 0 and sink.stats.replayed == 0
    assert totals(warehouse) == (2000, 2000)


@pytest.mark.parametrize("marked", [False, True, "alternate"])
def test_one_bad_row_is_dead_lettered_alone_and_its_replay_lands_once(
    settings: Settings, warehouse: AsyncWarehouse, marked: bool | str
) -> None:
    """Items 5 and 3: a row ClickHouse refuses (a real constraint, code 469) costs one dead
    letter, not the batch; replaying that letter after the fix lands the line once."""
    messages = enriched_messages(1000, seed=43)
    bad = EnrichedBatch.model_validate_json(messages[7][1]).lines[13]
    warehouse.sync.command(
        "ALTER TABLE declarations ADD CONSTRAINT test_refused "
        f"CHECK NOT (declaration_id = '{bad.declaration_id}' AND line_no = {bad.line_no})"
    )
    publish(settings, messages, marked)
    letters = Letters()
    sink_until(settings, warehouse, (999, 999), letters)
    (letter,) = letters.sent
    assert letter.stage == "sink" and letter.context == {"lines": [13]}
    assert "VIOLATED_CONSTRAINT" in letter.reason or "Code: 469" in letter.reason
    assert letter.payload == messages[7][1]  # the original bytes

    warehouse.sync.command("ALTER TABLE declarations DROP CONSTRAINT test_refused")
    memory = ReplayMemory(settings.ingest.state_dir / "replayed")
    producer = kafka_producer(settings.kafka, acks="all")
    try:
        memory.replay(producer, [letter], settings.topics)
        memory.replay(producer, [letter], settings.topics)  # --again: still once
    finally:
        producer.close()
    sink_until(settings, warehouse, (1000, 1000))
    key = warehouse.sync.query(
        "SELECT count() FROM declarations "
        "WHERE declaration_id = {d:String} AND line_no = {n:UInt32}",
        {"d": bad.declaration_id, "n": bad.line_no},
    )
    assert int(key.rows[0][0]) == 1


@pytest.mark.parametrize("marked", [False, True, "alternate"])
def test_a_full_disk_pauses_the_sink_and_the_rows_land_once_it_is_lifted(
    settings: Settings, warehouse: AsyncWarehouse, marked: bool | str
) -> None:
    """Item 5: NOT_ENOUGH_SPACE (243) is ClickHouse's real refusal while the table asks for
    more free disk than there is; it used to dead-letter the batches and commit them."""
    warehouse.sync.command(
        "ALTER TABLE declarations MODIFY SETTING min_free_disk_bytes_to_perform_insert = "
        "1000000000000000000"
    )
    publish(settings, enriched_messages(1000, seed=44), marked)
    letters = Letters()

    async def full_disk_for_a_while(sink: Sink) -> None:
        async def paused() -> bool:
            return sink.paused and sink.stats.retries >= 3

        await until(paused, 30, "the sink to pause on the full disk")
        assert await warehouse.run(lambda: totals(warehouse)) == (0, 0)
        await warehouse.run(
            lambda: warehouse.sync.command(
                "ALTER TABLE declarations RESET SETTING min_free_disk_bytes_to_perform_insert"
            )
        )

    sink = sink_until(settings, warehouse, (1000, 1000), letters, full_disk_for_a_while)
    assert letters.sent == [] and sink.stats.paused_s > 0
    assert totals(warehouse) == (1000, 1000)


def test_a_batch_spanning_more_than_a_hundred_years_lands(warehouse: AsyncWarehouse) -> None:
    """Item 5: declarations is PARTITION BY toYear; 150 years in one insert used to hit
    max_partitions_per_insert_block (TOO_MANY_PARTS, taken as an outage) and the sink
    retried forever. The model now bounds declared_at to 100 years; the insert setting keeps
    the sink safe whatever the model says (rows made here bypass it)."""
    lines = [
        line
        for _, value in enriched_messages(150, seed=45)
        for line in EnrichedBatch.model_validate_json(value).lines
    ]
    rows = [
        declaration_row(line.model_copy(update={"declared_at": date(1971 + n, 6, 1)}))
        for n, line in enumerate(lines)
    ]
    warehouse.sync.insert_rows("declarations", rows, DECLARATION_COLUMNS, "years-1")
    warehouse.sync.insert_rows("declarations", rows, DECLARATION_COLUMNS, "years-1")  # a replay
    years = warehouse.sync.query("SELECT count(), uniqExact(toYear(declared_at)) FROM declarations")
    assert [int(x) for x in years.rows[0]] == [150, 150]


def test_a_group_reset_after_the_dedup_window_passed_doubles_nothing(
    settings: Settings, warehouse: AsyncWarehouse
) -> None:
    """Item 6: ClickHouse remembers insert tokens for a window of blocks (here shrunk to
    one, as hours of small flushes would); a group reset that replays the whole topic after
    that must still insert nothing twice: the sink's landed plans are the horizon."""
    warehouse.sync.command(
        "ALTER TABLE declarations MODIFY SETTING non_replicated_deduplication_window = 1"
    )
    publish(settings, enriched_messages(1000, seed=45))
    sink_until(settings, warehouse, (1000, 1000))
    # the group's offsets lost (a new group reads from the earliest offset, as after a reset)
    worker = settings.worker.model_copy(update={"app_id": f"{settings.worker.app_id}-reset"})
    again = settings.model_copy(update={"worker": worker})
    lag = group_lag(again, sink_group(again), [settings.topics.enriched])
    assert lag[settings.topics.enriched] == len(range(0, 1000, LINES_PER_MESSAGE))  # all again
    sink = sink_until(again, warehouse, (1000, 1000))
    assert sink.stats.rows == 0  # every batch was found landed
    assert totals(warehouse) == (1000, 1000)


@pytest.mark.parametrize("marked", [True, "alternate"])
def test_a_message_whose_batch_header_lies_is_dead_lettered_alone(
    settings: Settings, warehouse: AsyncWarehouse, marked: bool | str
) -> None:
    """A message with the worker's headers whose lines are not what the headers promise
    (here a line number ClickHouse cannot read): the sink hands its lines on unread, the
    batch is refused or goes as rows, the message is then read in full and becomes one dead
    letter, and every line of the messages beside it lands."""
    messages = enriched_messages(1000, seed=46)
    key, value = messages.pop(9)
    spoiled = value.replace(b'"line_no":', b'"line_no":"not a number","was":', 1)
    headers = [
        (WRITER_HEADER, writer_mark()),
        (BATCH_HEADER, batch_header(EnrichedBatch.model_validate_json(value))),
    ]
    publish(settings, messages[:9], marked)
    producer = kafka_producer(settings.kafka, acks="all")
    try:
        producer.send(settings.topics.enriched, key=key, value=spoiled, headers=headers)
        producer.flush()
    finally:
        producer.close()
    publish(settings, messages[9:], marked)
    letters = Letters()
    sink_until(settings, warehouse, (950, 950), letters)
    (letter,) = letters.sent
    assert letter.stage == "sink" and letter.payload == spoiled
    assert "line_no" in letter.reason
