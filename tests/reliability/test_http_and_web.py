"""Issue 14, items 9 and 10: outbound HTTP leaks no credential and never counts a redirect as
a delivery; the web port shows no worker state, bounds its queries and wants a token."""

import asyncio
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from ingest.broker.clients import kafka_producer
from ingest.broker.reader import read_to_end
from schemas.alert import Alert, LineKey, Party
from schemas.codecs import ALERT
from schemas.raw import RawBatch
from schemas.settings import ClickHouseSettings, WorkerSettings
from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.queries import via_worker
from stream.warehouse.web import QueryGate, serve_queries
from tests.services import CLI, Pipeline, free_port, wait_for

pytestmark = pytest.mark.integration

TOKEN = "t0ken-for-the-test"


class Recorder(ThreadingHTTPServer):
    """Keeps (method, path, headers) of each request; ``answer`` builds the response."""

    daemon_threads = True

    def __init__(self, host: str, answer: object) -> None:
        super().__init__((host, 0), Recording)
        self.answer = answer
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def url(self, path: str) -> str:
        return f"http://{self.server_address[0]}:{self.server_address[1]}{path}"


class Recording(BaseHTTPRequestHandler):
    server: Recorder

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        status, headers, body = self.server.answer(self)  # type: ignore[operator]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[list[Recorder]]:
    started: list[Recorder] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def start(servers: list[Recorder], answer: object, host: str = "127.0.0.1") -> Recorder:
    server = Recorder(host, answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    return server


def test_the_poller_does_not_forward_authorization_to_another_host(
    pipeline: Pipeline, servers: list[Recorder], tmp_path: Path
) -> None:
    def feed(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        since = "since_id=" in handler.path
        return 200, {}, orjson.dumps([] if since else [{"id": 1, "declaration_id": "D1"}])

    other = start(servers, feed, host="127.0.0.2")
    origin = start(servers, lambda h: (302, {"Location": other.url(h.path)}, b""))
    # a credential on the command line would stand in the process list: refused
    argv = [CLI, "ingest", "http", origin.url("/feed"), "--once"]
    refused = subprocess.run(
        [*argv, "--header", "Authorization: Bearer s3"],
        env=pipeline.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2 and "--header-file" in refused.stderr
    assert not origin.seen
    headers = tmp_path / "headers"
    headers.write_text("# the feed's token\nAuthorization: Bearer s3\n")
    out = pipeline.cli(
        "ingest", "http", origin.url("/feed"), "--once", "--header-file", str(headers)
    )
    assert "published=1 " in out.stdout
    assert all(h["Authorization"] == "Bearer s3" for _, _, h in origin.seen)
    assert other.seen and all("Authorization" not in h for _, _, h in other.seen)
    raw = read_to_end(pipeline.settings, pipeline.settings.topics.raw("http"))
    batches = [RawBatch.model_validate_json(m.value) for m in raw]
    assert [orjson.loads(r.payload)["id"] for b in batches for r in b.records] == [1]


def alert(alert_id: str) -> Alert:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    return Alert(
        alert_id=alert_id,
        rule="battlefield_goods_to_high_risk",
        severity="high",
        score=0.8,
        reason="body_armor bound for RU",
        lines=[LineKey(declaration_id="D1", line_no=1)],
        parties=[Party(role="importer", name="Brightway", country="RU")],
        destination_country="RU",
        first_seen=now,
        last_seen=now,
    )


def publish_alerts(pipe: Pipeline, ids: list[str]) -> None:
    producer = kafka_producer(pipe.settings.kafka)
    for alert_id in ids:
        producer.send(pipe.settings.topics.alerts, ALERT.encode(alert(alert_id)))
    producer.flush(timeout=30)
    producer.close()


def webhook(pipe: Pipeline, tmp_path: Path, url: str, **env: str) -> tuple[str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [CLI, "alerts", "webhook", "--from-beginning", "--idle-timeout", "3",
         "--failures", str(tmp_path / "failures.jsonl")],
        env={**pipe.env, "CUSTOMS_WATCH_WEBHOOK_URL": url, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr, time.monotonic() - started


def test_a_webhook_answering_302_records_a_failure_without_its_token(
    pipeline: Pipeline, servers: list[Recorder], tmp_path: Path
) -> None:
    publish_alerts(pipeline, ["a1"])
    hook = start(servers, lambda h: (302, {"Location": "/login"}, b""))
    output, _ = webhook(
        pipeline, tmp_path, hook.url("/hook?token=hidden"), CUSTOMS_WATCH_WEBHOOK_SECRET="k3y"
    )
    assert "delivered=0 failed=1" in output
    assert [(method, path) for method, path, _ in hook.seen] == [("POST", "/hook?token=hidden")]
    failures = (tmp_path / "failures.jsonl").read_bytes()
    (entry,) = [orjson.loads(line) for line in failures.splitlines()]
    assert entry["alert_id"] == "a1" and entry["status"] == 302
    written = (tmp_path / "failures.jsonl").read_text() + output
    assert "hidden" not in written and "k3y" not in written


def test_undeliverable_alerts_cost_their_budget_each_not_minutes(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    publish_alerts(pipeline, ["s1", "s2", "s3"])
    with HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as silent:  # never answers
        url = f"http://127.0.0.1:{silent.server_address[1]}/hook"
        output, took = webhook(
            pipeline, tmp_path, url,
            CUSTOMS_WATCH_WEBHOOK_BUDGET_S="2", CUSTOMS_WATCH_WEBHOOK_TIMEOUT_S="1",
        )  # fmt: skip
    assert "delivered=0 failed=3" in output
    assert took < 30, f"three undeliverable alerts took {took:.0f} s"


def get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_worker_web_port_shows_no_faust_pages_and_wants_its_token(
    pipeline: Pipeline,
) -> None:
    pipeline.env["CUSTOMS_WATCH_WORKER_WEB_TOKEN"] = TOKEN
    pipeline.start_worker()
    base = f"http://127.0.0.1:{pipeline.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"

    def answers() -> bool:
        try:
            return bool(via_worker(base, "line_totals", timeout_s=5, token=TOKEN).rows)
        except Exception:
            return False

    wait_for(answers, 60, "the worker's web port", pipeline)
    assert get(f"{base}/table/") == 404
    assert get(f"{base}/router/") == 404
    assert get(f"{base}/customs-watch/query/line_totals/") == 401
    assert get(f"{base}/customs-watch/query/line_totals/", token="wrong") == 401
    assert get(f"{base}/customs-watch/query/line_totals/", token=TOKEN) == 200


def test_a_worker_off_loopback_without_a_token_refuses_to_start(pipeline: Pipeline) -> None:
    env = {**pipeline.env, "CUSTOMS_WATCH_WORKER_WEB_HOST": "0.0.0.0"}
    worker = pipeline.start_worker(env=env)
    try:
        code = worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the worker started on 0.0.0.0 without a token")
    assert code != 0
    assert "CUSTOMS_WATCH_WORKER_WEB_TOKEN" in pipeline.worker_logs()


SLOW = {"slow": "SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) % 7 = 3"}


def test_a_named_query_over_its_limits_is_refused_quickly(tmp_path: Path) -> None:
    """On the real engine and a real port: past its time limit, and beyond the concurrency."""
    warehouse = AsyncWarehouse(ClickHouseSettings(dsn=f"chdb://{tmp_path / 'ch'}"))
    worker = WorkerSettings(query_timeout_s=1, query_concurrency=1)
    port = free_port()
    url = f"http://127.0.0.1:{port}/customs-watch/query/slow/"

    async def scenario() -> tuple[tuple[int, float], tuple[int, float]]:
        runner = await serve_queries(QueryGate(warehouse, worker, SLOW), "127.0.0.1", port)
        try:
            timed = asyncio.create_task(asyncio.to_thread(timed_get, url))
            await asyncio.sleep(0.3)  # the first query now holds the only slot
            crowded = await asyncio.to_thread(timed_get, url)
            return await timed, crowded
        finally:
            await runner.cleanup()

    try:
        (status, took), (crowded_status, crowded_took) = asyncio.run(scenario())
    finally:
        warehouse.close()
    assert (status, crowded_status) == (504, 503)
    assert took < 5 and crowded_took < 0.5


def timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    return get(url), time.monotonic() - started
