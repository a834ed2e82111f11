"""The sink on the real broker and the real embedded engine, in this process.

Each test publishes enriched batches (as the enrich agent does) and runs one or two
:class:`Sink` instances against them: ClickHouse failing for a while, a second sink joining
the group, a whole-topic replay by a fresh group, copies redelivered upstream. Refused rows,
recreated topics and replayed letters: tests/reliability/test_sink_faults.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from clickhouse_connect.driver.exceptions import OperationalError

from ingest.broker.admin import group_lag
from schemas.settings import Settings
from stream.sink.service import Sink, sink_group
from stream.warehouse.async_client import AsyncWarehouse
from tests.sink_helpers import (
    Letters,
    enriched_messages,
    migrated_warehouse,  # noqa: F401 (the warehouse fixture)
    publish,
    sink_settings,  # noqa: F401 (the settings fixture)
    totals,
    until,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("marked", [False, True])
def test_clickhouse_down_pauses_consumption_and_nothing_is_lost_or_doubled(
    settings: Settings, warehouse: AsyncWarehouse, marked: bool
) -> None:
    """``marked``: the lines go as JSON (``Warehouse.insert_json``, through ``command``)."""
    publish(settings, enriched_messages(2000, seed=1), marked)
    client = warehouse.sync._client
    real_insert, real_command = client.insert, client.command
    outage_until: float | None = None  # ClickHouse is "down" for 4 s from the first insert
    failures = 0

    def down(declarations: bool) -> bool:
        nonlocal failures, outage_until
        if declarations and outage_until is None:
            outage_until = time.monotonic() + 4.0
        if declarations and time.monotonic() < (outage_until or 0):
            failures += 1
            return True
        return False

    def failing_insert(table: str, *args: object, **kwargs: object) -> object:
        if down(table == "declarations"):
            raise OperationalError("injected: connection refused")
        return real_insert(table, *args, **kwargs)

    def failing_command(sql: str, *args: object, **kwargs: object) -> object:
        if down(sql.startswith("INSERT INTO declarations ")):
            raise OperationalError("injected: connection refused")
        return real_command(sql, *args, **kwargs)

    client.insert = failing_insert  # type: ignore[method-assign]
    client.command = failing_command  # type: ignore[method-assign]

    async def scenario() -> None:
        sink = Sink(settings, warehouse, Letters())
        task = asyncio.create_task(sink.run())

        async def paused() -> bool:
            return sink.paused

        await until(paused, 30, "the sink to pause")
        assert sink._consumer.paused() == sink._consumer.assignment()
        assert await warehouse.run(lambda: totals(warehouse)) == (0, 0)

        async def landed() -> bool:
            return await warehouse.run(lambda: totals(warehouse)) == (2000, 2000)

        await until(landed, 60, "2000 rows after the outage")
        assert not sink.paused and not sink._consumer.paused()
        await asyncio.sleep(1.0)  # nothing more arrives later
        sink.stop()
        await task
        assert sink.stats.retries >= 3 and sink.stats.paused_s >= 3.0
        assert sink.stats.rows == 2000

    asyncio.run(scenario())
    assert failures >= 3
    assert totals(warehouse) == (2000, 2000)


def test_a_second_sink_joining_mid_stream_rebalances_without_loss_or_duplicates(
    settings: Settings, warehouse: AsyncWarehouse
) -> None:
    messages = enriched_messages(6000, seed=2)

    async def scenario() -> tuple[Sink, Sink]:
        first = Sink(settings, warehouse, Letters())
        first_task = asyncio.create_task(first.run())
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, publish, settings, messages[:40])

        async def started() -> bool:
            return await warehouse.run(lambda: totals(warehouse)[0]) > 0

        await until(started, 60, "the first rows")
        second = Sink(settings, warehouse, Letters())
        second_task = asyncio.create_task(second.run())
        # Keep publishing through the rebalance (a join takes about 3 s on the local broker).
        for start in range(40, len(messages), 2):
            await loop.run_in_executor(None, publish, settings, messages[start : start + 2])
            await asyncio.sleep(0.15)

        async def landed() -> bool:
            return await warehouse.run(lambda: totals(warehouse)) == (6000, 6000)

        await until(landed, 90, "6000 rows")
        await asyncio.sleep(1.0)
        first.stop()
        second.stop()
        await asyncio.gather(first_task, second_task)
        return first, second

    first, second = asyncio.run(scenario())
    assert totals(warehouse) == (6000, 6000)
    assert first.stats.rows > 0 and second.stats.rows > 0  # both really took part


@pytest.mark.parametrize("marked", [False, True])
def test_a_fresh_group_replays_the_same_ranges_and_clickhouse_drops_them(
    settings: Settings, warehouse: AsyncWarehouse, marked: bool
) -> None:
    messages = enriched_messages(1500, seed=3)
    publish(settings, messages, marked)
    # The same upstream messages delivered again later at new offsets (a stage restarted).
    publish(settings, messages[:10], marked)

    enriched = settings.topics.enriched

    async def run_until(sink: Sink, rows: tuple[int, int]) -> None:
        task = asyncio.create_task(sink.run())

        async def done() -> bool:
            lag = await asyncio.get_running_loop().run_in_executor(
                None, group_lag, sink._settings, sink_group(sink._settings), [enriched]
            )
            landed = await warehouse.run(lambda: totals(warehouse))
            return lag.get(enriched) == 0 and landed == rows

        await until(done, 60, f"{rows} rows and every offset committed")
        sink.stop()
        await task

    first = Sink(settings, warehouse, Letters())
    asyncio.run(run_until(first, (1500, 1500)))
    assert first.stats.dropped == 10 and first.stats.replayed == 0
    plans = warehouse.sync.query(
        "SELECT count(), sum(rows) FROM sink_batches FINAL WHERE topic = {t:String}",
        {"t": settings.topics.enriched},
    ).rows[0]
    assert int(plans[1]) == 1500

    # A new group (offsets reset) reads everything again: every planned range is rebuilt
    # exactly, carries the same token, and ClickHouse drops it.
    again = settings.model_copy(
        update={
            "worker": settings.worker.model_copy(update={"app_id": "replay-" + uuid.uuid4().hex})
        }
    )
    replay = Sink(again, warehouse, Letters())
    asyncio.run(run_until(replay, (1500, 1500)))
    assert replay.stats.replayed == int(plans[0])
    assert totals(warehouse) == (1500, 1500)
