"""The web port's guard: loopback or a token, bearer check, the faust pages left off."""

import asyncio
from typing import Any

import pytest
from pydantic import SecretStr

from schemas.settings import Settings, WorkerSettings
from stream.warehouse.web import QueryGate, WebExposed, check_exposure, is_loopback
from stream.worker.app import faust_settings


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    assert is_loopback(host)
    check_exposure(WorkerSettings(web_host=host))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "worker.internal"])
def test_other_hosts_need_a_token(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(WebExposed, match="CUSTOMS_WATCH_WORKER_WEB_TOKEN"):
        check_exposure(WorkerSettings(web_host=host))
    check_exposure(WorkerSettings(web_host=host, web_token=SecretStr("t")))


def gate(**worker: Any) -> QueryGate:
    no_warehouse: Any = None
    return QueryGate(no_warehouse, WorkerSettings(**worker))


def test_a_set_token_is_asked_of_every_request() -> None:
    guarded = gate(web_token=SecretStr("s3cret"))
    assert guarded.authorized("Bearer s3cret") and guarded.authorized("bearer s3cret")
    assert not guarded.authorized(None)
    assert not guarded.authorized("Bearer wrong")
    assert not guarded.authorized("Basic s3cret")
    assert gate().authorized(None)
    status, _, headers = asyncio.run(guarded.handle("line_totals", None, "Bearer no"))
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")


def test_requests_beyond_the_concurrency_are_refused_at_once() -> None:
    crowded = gate(query_concurrency=1)
    crowded.running = 1
    status, body, headers = asyncio.run(crowded.handle("line_totals", None, None))
    assert status == 503 and headers["Retry-After"] == "1" and b"already running" in body


def test_faust_serves_none_of_its_own_pages() -> None:
    conf = faust_settings(Settings())
    for page in ("router", "tables", "graph", "stats", "metrics"):
        assert conf[f"web_{page}_enabled"] is False
