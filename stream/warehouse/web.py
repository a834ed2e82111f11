"""Serve the named queries over HTTP, read-only, from whichever process owns ClickHouse.

``GET /customs-watch/query/<name>/[?since=YYYY-MM-DD][&party=ID_OR_NAME]`` runs one of the
named queries in ``schemas/clickhouse/queries/`` (``party`` where it takes one) and answers
``{"columns": [...], "rows": [[...]]}``. Only named queries are served, never arbitrary SQL.
The worker serves them on faust's web server, the stand-alone sink on an aiohttp server of
its own; both bind 127.0.0.1 by default.

The port is guarded by a :class:`QueryGate`: with ``CUSTOMS_WATCH_WORKER_WEB_TOKEN`` set every
request must send ``Authorization: Bearer <token>`` (401 otherwise), and a process refuses to
start on an address other than loopback without one (:func:`check_exposure`); at most
``query_concurrency`` queries run at once (the rest get 503 at once, with ``Retry-After``),
each stopped by ClickHouse after ``query_timeout_s`` (504).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any

import faust
from aiohttp import web

from schemas.errors import TerminalError
from schemas.settings import WorkerSettings
from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.queries import QUERY_PATH, answer, error

Answer = tuple[int, bytes, dict[str, str]]


class WebExposed(TerminalError):
    """The web port would listen beyond loopback without a token."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(worker: WorkerSettings) -> None:
    """Refuse a web port off loopback that anyone could query."""
    if worker.web_token is None and not is_loopback(worker.web_host):
        raise WebExposed(
            f"the web port would listen on {worker.web_host}, not a loopback address, without "
            "a token: set CUSTOMS_WATCH_WORKER_WEB_TOKEN (clients send it as "
            "'Authorization: Bearer …') or CUSTOMS_WATCH_WORKER_WEB_HOST=127.0.0.1"
        )


class QueryGate:
    """Token, concurrency and time limits in front of :func:`answer`."""

    def __init__(
        self,
        warehouse: AsyncWarehouse,
        worker: WorkerSettings,
        queries: Mapping[str, str] | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.token = worker.web_token.get_secret_value().encode() if worker.web_token else None
        self.timeout_s = worker.query_timeout_s
        self.concurrency = worker.query_concurrency
        self.queries = queries
        self.running = 0

    def authorized(self, authorization: str | None) -> bool:
        if self.token is None:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        matches = hmac.compare_digest(given.strip().encode(), self.token)
        return scheme.lower() == "bearer" and matches

    async def handle(
        self,
        name: str,
        since: str | None,
        authorization: str | None,
        party: str | None = None,
    ) -> Answer:
        if not self.authorized(authorization):
            status, body = error(401, "missing or wrong bearer token")
            return status, body, {"WWW-Authenticate": 'Bearer realm="customs-watch"'}
        if self.running >= self.concurrency:
            status, body = error(503, f"{self.concurrency} queries already running; retry")
            return status, body, {"Retry-After": "1"}
        self.running += 1
        try:
            status, body = await answer(
                self.warehouse, name, since, self.timeout_s, self.queries, party=party
            )
        finally:
            self.running -= 1
        return status, body, {}


def register_pages(app: faust.App, gate: QueryGate) -> None:
    @app.page(QUERY_PATH)
    async def query(web: Any, request: Any, name: str) -> Any:
        status, body, headers = await gate.handle(
            name,
            request.query.get("since"),
            request.headers.get("Authorization"),
            request.query.get("party"),
        )
        return web.bytes(body, content_type="application/json", status=status, headers=headers)


async def serve_queries(gate: QueryGate, host: str, port: int) -> web.AppRunner:
    """Start an aiohttp server for the named queries; the caller cleans the runner up."""

    async def query(request: web.Request) -> web.Response:
        status, body, headers = await gate.handle(
            request.match_info["name"],
            request.query.get("since"),
            request.headers.get("Authorization"),
            request.query.get("party"),
        )
        return web.Response(
            body=body, status=status, content_type="application/json", headers=headers
        )

    app = web.Application()
    app.router.add_get(QUERY_PATH, query)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
