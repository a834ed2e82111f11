"""Runs the blocking ClickHouse client on one dedicated thread.

The event loop keeps heartbeating its consumer groups while a query or insert runs. The
embedded engine serves one caller at a time, so every call queues on that single thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from schemas.settings import ClickHouseSettings
from stream.warehouse.client import Warehouse
from stream.warehouse.migrations import apply_ttls, migrate

T = TypeVar("T")


class AsyncWarehouse:
    def __init__(self, settings: ClickHouseSettings) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
        self._warehouse = self._executor.submit(Warehouse, settings).result()

    @property
    def sync(self) -> Warehouse:
        """The client itself, for calls handed to :meth:`run` (never call it elsewhere)."""
        return self._warehouse

    async def run(self, call: Callable[[], T]) -> T:
        """Run ``call`` on the ClickHouse thread; its errors propagate unchanged."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def migrate(self) -> list[str]:
        """Apply pending migrations on the ClickHouse thread (blocking; at start-up)."""
        return self._executor.submit(migrate, self._warehouse).result()

    def apply_ttls(self) -> list[str]:
        return self._executor.submit(apply_ttls, self._warehouse).result()

    def close(self) -> None:
        self._executor.submit(self._warehouse.close).result()
        self._executor.shutdown(wait=True)
