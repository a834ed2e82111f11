"""Runs the blocking ClickHouse client on one dedicated thread, with retry for transient errors.

The event loop keeps heartbeating the consumer group while an insert runs. A transient
failure (server down, timeout) is retried with capped exponential backoff and never
dropped; the Kafka offset is not committed until the write succeeds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TypeVar

from schemas.alert import Alert
from schemas.enriched import EnrichedDeclaration
from schemas.settings import ClickHouseSettings
from stream.errors import WarehouseUnavailable
from stream.warehouse import QueryResult, Warehouse

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BACKOFF_S = 30.0


class AsyncWarehouse:
    def __init__(self, settings: ClickHouseSettings) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
        self._warehouse = self._executor.submit(Warehouse, settings).result()

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def _until_done(self, call: Callable[[], None], token: str) -> None:
        """Run ``call`` on the ClickHouse thread, retrying transient errors with capped
        exponential backoff until it passes; rejections propagate."""
        delay = 0.5
        while True:
            try:
                await self._run(call)
                return
            except WarehouseUnavailable as exc:
                log.warning(
                    "clickhouse unavailable, retrying",
                    extra={"token": token, "retry_in_s": delay, "error": str(exc)},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)

    async def write(
        self, lines: Sequence[EnrichedDeclaration], alerts: Sequence[Alert], token: str
    ) -> None:
        """Insert one batch's lines and alerts, retrying transient errors until they pass."""
        warehouse = self._warehouse

        def both() -> None:
            warehouse.insert_declarations(lines, token)
            warehouse.insert_alerts(alerts, f"{token}-alerts")

        await self._until_done(both, token)

    async def write_alerts(self, alerts: Sequence[Alert], token: str) -> None:
        """Insert alert versions (ReplacingMergeTree keeps the latest per id), retrying."""
        warehouse = self._warehouse
        await self._until_done(lambda: warehouse.insert_alerts(alerts, token), token)

    async def named_query(self, name: str, since: date | None = None) -> QueryResult:
        return await self._run(lambda: self._warehouse.named_query(name, since))

    def migrate(self) -> list[str]:
        return self._executor.submit(self._warehouse.migrate).result()

    def close(self) -> None:
        self._executor.submit(self._warehouse.close).result()
        self._executor.shutdown(wait=True)
