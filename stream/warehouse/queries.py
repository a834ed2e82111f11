"""Named queries: the SQL files in ``schemas/clickhouse/queries/``, run by name.

The one way to read the warehouse from outside it: the CLI (``customs-watch query``,
``alerts list``), the worker's and the sink's web page, and tests. With the embedded engine
a running worker or sink owns the data directory (see :mod:`stream.warehouse.ownership`), so
:func:`named_query` asks that owner over HTTP (with the web token, when one is set);
otherwise it opens ClickHouse itself. Served queries run under ClickHouse's
``max_execution_time`` (``CUSTOMS_WATCH_WORKER_QUERY_TIMEOUT_S``): the owner has one
ClickHouse thread, which the sink needs too.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import orjson
from pydantic import SecretStr

from schemas import SCHEMAS_DIR
from schemas.settings import ClickHouseSettings
from stream.errors import WarehouseRejected, WarehouseUnavailable
from stream.warehouse import ownership
from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.client import QueryResult, Warehouse

QUERIES_DIR = SCHEMAS_DIR / "clickhouse" / "queries"
QUERY_PATH = "/customs-watch/query/{name}/"
EPOCH = date(1970, 1, 1)


def named_queries(queries_dir: Path = QUERIES_DIR) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(queries_dir.glob("*.sql"))}


def run_named_query(
    warehouse: Warehouse,
    name: str,
    since: date | None = None,
    max_execution_s: float | None = None,
    queries: Mapping[str, str] | None = None,
    party: str | None = None,
) -> QueryResult:
    """Run a query file; ``{since:Date}`` in it is bound to ``since`` (default: all),
    ``{party:String}`` to ``party`` (a party id or a name it was written as; default: every
    party). With ``max_execution_s`` ClickHouse stops the query after that long (error 159)."""
    queries = named_queries() if queries is None else queries
    if name not in queries:
        raise KeyError(f"no query named {name!r}; known: {', '.join(sorted(queries))}")
    sql = queries[name]
    parameters: dict[str, object] = {}
    if "{since:" in sql:
        parameters["since"] = since or EPOCH
    if "{party:" in sql:
        parameters["party"] = (party or "").strip()
    if max_execution_s is not None:
        sql = f"{sql.rstrip().rstrip(';')}\nSETTINGS max_execution_time = {max_execution_s:g}"
    return warehouse.query(sql, parameters or None)


def takes_party(name: str, queries: Mapping[str, str] | None = None) -> bool:
    """Whether the named query has a ``party`` parameter."""
    queries = named_queries() if queries is None else queries
    return "{party:" in queries.get(name, "")


def error(status: int, message: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"error": message})


async def answer(
    warehouse: AsyncWarehouse,
    name: str,
    since_text: str | None,
    max_execution_s: float | None = None,
    queries: Mapping[str, str] | None = None,
    party: str | None = None,
) -> tuple[int, bytes]:
    """Status and JSON body for one named-query request (shared by the worker and the
    stand-alone sink, whichever owns the data directory): 504 past the time limit, 503
    when ClickHouse is unavailable."""
    queries = named_queries() if queries is None else queries
    if name not in queries:
        return error(404, f"no query named {name!r}")
    try:
        since = date.fromisoformat(since_text) if since_text else None
    except ValueError:
        return error(400, f"since: not a date: {since_text!r}")
    try:
        result = await warehouse.run(
            lambda: run_named_query(
                warehouse.sync, name, since, max_execution_s, queries, party=party
            )
        )
    except WarehouseUnavailable as exc:
        if "TIMEOUT_EXCEEDED" in str(exc):
            return error(504, f"{name} ran past its time limit of {max_execution_s:g} s")
        return error(503, f"ClickHouse unavailable: {str(exc)[:300]}")
    except WarehouseRejected as exc:
        return error(500, f"{name} failed: {str(exc)[:300]}")
    return 200, orjson.dumps({"columns": result.columns, "rows": result.rows}, default=str)


def via_worker(
    url: str,
    name: str,
    timeout_s: float = 30.0,
    since: date | None = None,
    token: str | None = None,
    party: str | None = None,
) -> QueryResult:
    """Ask the owner of the data directory (worker or sink) at ``url`` to run the query,
    with ``token`` as ``Authorization: Bearer`` when given."""
    address = url.rstrip("/") + QUERY_PATH.format(name=name)
    arguments = {"since": since.isoformat() if since else None, "party": party}
    given = {k: v for k, v in arguments.items() if v}
    if given:
        address += "?" + urllib.parse.urlencode(given)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        request = urllib.request.Request(address, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            data = orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = _error_of(exc)
        if exc.code in (401, 403):
            raise WarehouseRejected(f"{detail} (CUSTOMS_WATCH_WORKER_WEB_TOKEN)") from exc
        if exc.code >= 500:
            raise WarehouseUnavailable(detail) from exc
        raise KeyError(detail) from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise WarehouseUnavailable(f"worker at {url} did not answer: {exc}") from exc
    return QueryResult(columns=data["columns"], rows=data["rows"])


def _error_of(exc: urllib.error.HTTPError) -> str:
    try:
        return str(orjson.loads(exc.read() or b"{}").get("error", exc))
    except (orjson.JSONDecodeError, AttributeError):
        return str(exc)


def named_query(
    settings: ClickHouseSettings,
    name: str,
    since: date | None = None,
    token: SecretStr | None = None,
    party: str | None = None,
) -> QueryResult:
    """Through the owner of the embedded directory if one runs (sending ``token``, the
    owner's ``worker.web_token``), else directly."""
    data_dir = settings.embedded_path()
    owner = ownership.current_owner(data_dir) if data_dir is not None else None
    if owner is not None:
        secret = token.get_secret_value() if token else None
        return via_worker(owner.url, name, since=since, token=secret, party=party)
    warehouse = Warehouse(settings)
    try:
        return run_named_query(warehouse, name, since, party=party)
    finally:
        warehouse.close()
