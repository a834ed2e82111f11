"""Read-only pages on the worker's faust web server (bound to 127.0.0.1 by default).

``GET /customs-watch/query/<name>/[?since=YYYY-MM-DD]`` runs one of the named queries in
``schemas/clickhouse/queries/`` and answers ``{"columns": [...], "rows": [[...]]}``. Only
named queries are served, never arbitrary SQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import faust
import orjson

from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.client import named_queries

QUERY_PATH = "/customs-watch/query/{name}/"


async def answer(warehouse: AsyncWarehouse, name: str, since_text: str | None) -> tuple[int, bytes]:
    """Status and JSON body for one named-query request (shared by the worker and the
    stand-alone sink, whichever owns the data directory)."""
    if name not in named_queries():
        return 404, orjson.dumps({"error": f"no query named {name!r}"})
    try:
        since = date.fromisoformat(since_text) if since_text else None
    except ValueError:
        return 400, orjson.dumps({"error": f"since: not a date: {since_text!r}"})
    result = await warehouse.named_query(name, since)
    return 200, orjson.dumps({"columns": result.columns, "rows": result.rows}, default=str)


def register_pages(app: faust.App, warehouse: AsyncWarehouse) -> None:
    @app.page(QUERY_PATH)
    async def query(web: Any, request: Any, name: str) -> Any:
        status, body = await answer(warehouse, name, request.query.get("since"))
        return web.bytes(body, content_type="application/json", status=status)
