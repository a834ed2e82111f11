"""Serve the named queries over HTTP, read-only, from whichever process owns ClickHouse.

``GET /customs-watch/query/<name>/[?since=YYYY-MM-DD]`` runs one of the named queries in
``schemas/clickhouse/queries/`` and answers ``{"columns": [...], "rows": [[...]]}``. Only
named queries are served, never arbitrary SQL. The worker serves them on faust's web server,
the stand-alone sink on an aiohttp server of its own; both bind 127.0.0.1 by default.
"""

from __future__ import annotations

from typing import Any

import faust
from aiohttp import web

from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.queries import QUERY_PATH, answer


def register_pages(app: faust.App, warehouse: AsyncWarehouse) -> None:
    @app.page(QUERY_PATH)
    async def query(web: Any, request: Any, name: str) -> Any:
        status, body = await answer(warehouse, name, request.query.get("since"))
        return web.bytes(body, content_type="application/json", status=status)


async def serve_queries(warehouse: AsyncWarehouse, host: str, port: int) -> web.AppRunner:
    """Start an aiohttp server for the named queries; the caller cleans the runner up."""

    async def query(request: web.Request) -> web.Response:
        status, body = await answer(
            warehouse, request.match_info["name"], request.query.get("since")
        )
        return web.Response(body=body, status=status, content_type="application/json")

    app = web.Application()
    app.router.add_get(QUERY_PATH, query)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
