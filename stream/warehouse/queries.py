"""Run a named query from the CLI: through the owning worker, or directly.

See :mod:`stream.warehouse.ownership` for why: with the embedded engine, a running worker owns the
data directory, so the CLI asks the worker's web server; otherwise it opens ClickHouse.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import date

import orjson

from schemas.settings import ClickHouseSettings
from stream.errors import WarehouseUnavailable
from stream.warehouse import ownership
from stream.warehouse.client import QueryResult, Warehouse
from stream.warehouse.web import QUERY_PATH


def via_worker(
    url: str, name: str, timeout_s: float = 30.0, since: date | None = None
) -> QueryResult:
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
    data_dir = settings.embedded_path()
    owner = ownership.current_owner(data_dir) if data_dir is not None else None
    if owner is not None:
        return via_worker(owner.url, name, since=since)
    warehouse = Warehouse(settings)
    try:
        return warehouse.named_query(name, since)
    finally:
        warehouse.close()
