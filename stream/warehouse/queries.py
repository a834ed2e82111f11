"""Named queries: the SQL files in ``schemas/clickhouse/queries/``, run by name.

The one way to read the warehouse from outside it: the CLI (``customs-watch query``,
``alerts list``), the worker's and the sink's web page, and tests. With the embedded engine
a running worker or sink owns the data directory (see :mod:`stream.warehouse.ownership`), so
:func:`named_query` asks that owner over HTTP; otherwise it opens ClickHouse itself.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import orjson

from schemas import SCHEMAS_DIR
from schemas.settings import ClickHouseSettings
from stream.errors import WarehouseUnavailable
from stream.warehouse import ownership
from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.client import QueryResult, Warehouse

QUERIES_DIR = SCHEMAS_DIR / "clickhouse" / "queries"
QUERY_PATH = "/customs-watch/query/{name}/"
EPOCH = date(1970, 1, 1)


def named_queries(queries_dir: Path = QUERIES_DIR) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(queries_dir.glob("*.sql"))}


def run_named_query(warehouse: Warehouse, name: str, since: date | None = None) -> QueryResult:
    """Run a query file; ``{since:Date}`` in it is bound to ``since`` (default: all)."""
    queries = named_queries()
    if name not in queries:
        raise KeyError(f"no query named {name!r}; known: {', '.join(sorted(queries))}")
    sql = queries[name]
    parameters = {"since": since or EPOCH} if "{since:" in sql else None
    return warehouse.query(sql, parameters)


async def answer(warehouse: AsyncWarehouse, name: str, since_text: str | None) -> tuple[int, bytes]:
    """Status and JSON body for one named-query request (shared by the worker and the
    stand-alone sink, whichever owns the data directory)."""
    if name not in named_queries():
        return 404, orjson.dumps({"error": f"no query named {name!r}"})
    try:
        since = date.fromisoformat(since_text) if since_text else None
    except ValueError:
        return 400, orjson.dumps({"error": f"since: not a date: {since_text!r}"})
    result = await warehouse.run(lambda: run_named_query(warehouse.sync, name, since))
    return 200, orjson.dumps({"columns": result.columns, "rows": result.rows}, default=str)


def via_worker(
    url: str, name: str, timeout_s: float = 30.0, since: date | None = None
) -> QueryResult:
    """Ask the owner of the data directory (worker or sink) at ``url`` to run the query."""
    address = url.rstrip("/") + QUERY_PATH.format(name=name)
    if since is not None:
        address += f"?since={since.isoformat()}"
    try:
        with urllib.request.urlopen(address, timeout=timeout_s) as response:
            data = orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = orjson.loads(exc.read() or b"{}").get("error", str(exc))
        raise KeyError(detail) from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise WarehouseUnavailable(f"worker at {url} did not answer: {exc}") from exc
    return QueryResult(columns=data["columns"], rows=data["rows"])


def named_query(settings: ClickHouseSettings, name: str, since: date | None = None) -> QueryResult:
    """Through the owner of the embedded directory if one runs, else directly."""
    data_dir = settings.embedded_path()
    owner = ownership.current_owner(data_dir) if data_dir is not None else None
    if owner is not None:
        return via_worker(owner.url, name, since=since)
    warehouse = Warehouse(settings)
    try:
        return run_named_query(warehouse, name, since)
    finally:
        warehouse.close()
