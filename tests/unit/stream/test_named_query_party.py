"""The ``party`` parameter of the named queries: bound where a query takes it, carried by
the web gate and the worker URL, refused by the CLI where a query has none."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from schemas.settings import WorkerSettings
from stream.cli.main import app
from stream.warehouse.client import QueryResult
from stream.warehouse.queries import EPOCH, run_named_query, takes_party, via_worker
from stream.warehouse.web import QueryGate

T = TypeVar("T")


class Recorder:
    """Stands in for the warehouse: keeps each query's parameters and answers nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any] | None]] = []

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        self.calls.append((sql, parameters))
        return QueryResult(columns=["x"], rows=[])


class AsyncRecorder:
    def __init__(self) -> None:
        self.sync = Recorder()

    async def run(self, call: Callable[[], T]) -> T:
        return call()


def test_party_is_bound_only_where_the_query_takes_it() -> None:
    assert takes_party("party_profile") and takes_party("party_network")
    assert not takes_party("line_totals")
    wh: Any = Recorder()
    run_named_query(wh, "party_profile", party="  OOO Vektor-Snab ")
    run_named_query(wh, "party_network")
    run_named_query(wh, "new_importers", since=date(2024, 1, 1), party="ignored")
    run_named_query(wh, "line_totals")
    params = [p for _, p in wh.calls]
    assert params[0] == {"since": EPOCH, "party": "OOO Vektor-Snab"}
    assert params[1] == {"since": EPOCH, "party": ""}  # every party
    assert params[2] == {"since": date(2024, 1, 1)}
    assert params[3] is None


def test_the_web_gate_passes_the_party_on() -> None:
    warehouse: Any = AsyncRecorder()
    gate = QueryGate(warehouse, WorkerSettings())
    status, _, _ = asyncio.run(gate.handle("party_profile", "2024-01-01", None, "P0abc"))
    assert status == 200
    assert warehouse.sync.calls[0][1] == {"since": date(2024, 1, 1), "party": "P0abc"}


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            body = b'{"columns": ["x"], "rows": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", paths
    httpd.shutdown()
    httpd.server_close()


def test_the_worker_url_carries_the_party_encoded(server: tuple[str, list[str]]) -> None:
    url, paths = server
    via_worker(url, "party_profile", since=date(2024, 1, 1), party="ООО «Вектор» & Co")
    via_worker(url, "party_network", party=None)
    assert paths[0] == (
        "/customs-watch/query/party_profile/?since=2024-01-01&party="
        "%D0%9E%D0%9E%D0%9E+%C2%AB%D0%92%D0%B5%D0%BA%D1%82%D0%BE%D1%80%C2%BB+%26+Co"
    )
    assert paths[1] == "/customs-watch/query/party_network/"


def test_the_cli_refuses_a_party_for_a_query_without_one() -> None:
    result = CliRunner().invoke(app, ["query", "line_totals", "--party", "x"])
    assert result.exit_code == 2 and "takes no party" in result.output
