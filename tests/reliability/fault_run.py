"""The fault run: a feed through the real broker, worker and ClickHouse while things break.

While the lines flow: the stream worker (``customs-watch worker --no-sink``, a process) is
SIGKILLed and started again; ClickHouse refuses the sink's inserts, first for lack of disk
space (``min_free_disk_bytes_to_perform_insert``, NOT_ENOUGH_SPACE), then for memory
(``max_memory_usage``, MEMORY_LIMIT_EXCEEDED) — real refusals of the real engine, each for
``fault_s`` seconds; and halfway, once the first half has landed, every topic is deleted and
created again under the same ClickHouse. The end state must be every line exactly once and
no dead letter.

The sink runs in this process (the same :class:`stream.sink.service.Sink` that ``customs-watch
sink`` runs), because the embedded engine lets one process open its directory and the
refusals are set on the sink's own ClickHouse session.

``make fault`` runs 200 000 lines with 60 s refusals and writes a JSON report to
bench/results/; ``tests/reliability/test_fault_run.py`` runs a short version in ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ingest.broker.clients import aiokafka_producer
from ingest.broker.deadletters import send_dead_letters
from ingest.synthetic import synthetic_jsonl
from schemas.dead_letter import DeadLetter
from schemas.settings import Settings
from stream.sink.service import Sink
from stream.warehouse.async_client import AsyncWarehouse

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "customs-watch")
T = TypeVar("T")


@dataclass
class FaultReport:
    lines: int
    kills: int
    fault_s: float
    rows: int = 0
    distinct_lines: int = 0
    dead_letters: int = 0
    aggregated_lines: int = 0
    seconds: float = 0.0
    events: list[str] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        counted = (self.rows, self.distinct_lines, self.aggregated_lines)
        return counted == (self.lines,) * 3 and self.dead_letters == 0


class InProcessSink:
    """The real sink on an event loop of its own thread, with its ClickHouse session at hand."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.warehouse = AsyncWarehouse(settings.clickhouse)
        self.warehouse.migrate()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sink: Sink | None = None
        self.task = self.call(self._start())

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def _start(self) -> asyncio.Task[None]:
        producer = aiokafka_producer(
            self.settings.kafka,
            acks="all",
            max_request_size=self.settings.topics.max_message_bytes,
        )
        await producer.start()

        async def enqueue(key: bytes, value: bytes) -> Any:
            return await producer.send(self.settings.topics.deadletter, value=value, key=key)

        async def send(letters: list[DeadLetter]) -> None:
            await send_dead_letters(enqueue, letters)

        self.producer = producer
        self.sink = Sink(self.settings, self.warehouse, send)
        return asyncio.create_task(self.sink.run())

    def sql(self, statement: str) -> None:
        """One statement on the sink's own ClickHouse session (a ``SET`` stays in force)."""
        self.call(self.warehouse.run(lambda: self.warehouse.sync.command(statement)))

    def counts(self) -> tuple[int, int, int, int]:
        """Rows, distinct (declaration, line) keys, dead letters, and the lines the daily
        aggregate counted (its materialised view sees every inserted block, copies too);
        all -1 while the engine refuses (the refusals hit every query of the session)."""
        query = (
            "SELECT (SELECT count() FROM declarations), "
            "(SELECT uniqExact(declaration_id, line_no) FROM declarations), "
            "(SELECT count() FROM dead_letters), (SELECT sum(lines) FROM daily_lines)"
        )
        try:
            row = self.call(self.warehouse.run(lambda: self.warehouse.sync.query(query).rows[0]))
        except Exception:  # the refusal under test, or a query racing it
            return -1, -1, -1, -1
        return int(row[0]), int(row[1]), int(row[2]), int(row[3] or 0)

    def stop(self) -> None:
        if self.sink is not None:
            self.sink.stop()
        self.call(self._wait(self.task))
        self.call(self.producer.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.warehouse.close()

    @staticmethod
    async def _wait(task: asyncio.Task[None]) -> None:
        await task


class Deployment:
    """Topics, a stream worker process and the CLI, all under one topic prefix."""

    def __init__(self, bootstrap: str, workdir: Path, partitions: int = 4) -> None:
        tag = uuid.uuid4().hex[:8]
        self.workdir = workdir
        self.env = {
            **os.environ,
            "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": bootstrap,
            "CUSTOMS_WATCH_TOPICS_PREFIX": f"fault{tag}",
            "CUSTOMS_WATCH_TOPICS_PARTITIONS": str(partitions),
            "CUSTOMS_WATCH_WORKER_APP_ID": f"cw-fault-{tag}",
            "CUSTOMS_WATCH_WORKER_WEB_PORT": str(_free_port()),
            "CUSTOMS_WATCH_WORKER_DATA_DIR": str(workdir / "faust"),
            "CUSTOMS_WATCH_CLICKHOUSE_DSN": f"chdb://{workdir / 'clickhouse'}",
            "CUSTOMS_WATCH_SCREENING_WATCHLIST_DIR": str(workdir / "watchlists"),
            "CUSTOMS_WATCH_INGEST_STATE_DIR": str(workdir / "ingest-state"),
            "CUSTOMS_WATCH_SINK_MAX_WAIT_S": "0.5",
            "CUSTOMS_WATCH_SINK_RETRY_MAX_S": "2",
        }
        self.settings = Settings(
            kafka={"bootstrap": bootstrap},
            topics={"prefix": f"fault{tag}", "partitions": partitions},
            worker={"app_id": f"cw-fault-{tag}"},
            clickhouse={"dsn": self.env["CUSTOMS_WATCH_CLICKHOUSE_DSN"]},
            sink={"max_wait_s": 0.5, "retry_max_s": 2},
        )
        self.worker: subprocess.Popen[bytes] | None = None
        self.started = 0

    def cli(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            [CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"customs-watch {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout

    def start_worker(self) -> None:
        log = (self.workdir / f"worker-{self.started}.log").open("wb")
        self.started += 1
        self.worker = subprocess.Popen(
            [CLI, "worker", "--no-sink"],
            env={**self.env, "CUSTOMS_WATCH_WORKER_WEB_PORT": str(_free_port())},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=30)

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.worker.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@contextmanager
def _background(work: Callable[[], object]) -> Iterator[threading.Thread]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the caller
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield thread
    thread.join()
    if failures:
        raise failures[0]


def fault_run(
    bootstrap: str, workdir: Path, lines: int, fault_s: float, kills: int = 3
) -> FaultReport:
    """Run the whole scenario; returns what ClickHouse holds at the end."""
    report = FaultReport(lines=lines, kills=kills, fault_s=fault_s)
    began = time.monotonic()

    def note(event: str) -> None:
        report.events.append(f"{time.monotonic() - began:7.1f}s {event}")

    half = lines // 2
    feeds = []
    for n, (count, seed) in enumerate([(half, 61), (lines - half, 62)]):
        path = workdir / f"feed-{n}.jsonl"
        path.write_bytes(synthetic_jsonl(count, seed=seed, prefix=f"F{n}"))
        feeds.append(path)
    deploy = Deployment(bootstrap, workdir)
    deploy.cli("topics", "create")
    sink = InProcessSink(deploy.settings)
    deploy.start_worker()
    try:
        # first half: a kill while the lines flow, then each refusal (a second kill as the
        # memory refusal starts), with the stream still working through the feed
        with _background(lambda: deploy.cli("ingest", "jsonl", str(feeds[0]))):
            _wait_until(lambda: sink.counts()[0] >= half // 4, 600, "a quarter of the lines")
            if kills >= 1:
                deploy.kill_worker()
                note(f"worker SIGKILLed at {sink.counts()[0]} rows")
                deploy.start_worker()
            sink.sql(
                "ALTER TABLE declarations MODIFY SETTING "
                "min_free_disk_bytes_to_perform_insert = 1000000000000000000"
            )
            note("ClickHouse refuses inserts: disk space")
            time.sleep(fault_s)
            sink.sql("ALTER TABLE declarations RESET SETTING min_free_disk_bytes_to_perform_insert")
            note(f"disk space refusal lifted at {sink.counts()[0]} rows")
            sink.sql("SET max_memory_usage = 1000")
            note("ClickHouse refuses inserts: memory")
            if kills >= 2:
                deploy.kill_worker()
                note("worker SIGKILLed")
                deploy.start_worker()
            time.sleep(fault_s)
            sink.sql("SET max_memory_usage = 0")
            note(f"memory refusal lifted at {sink.counts()[0]} rows")
        _wait_until(lambda: sink.counts()[1] == half, 600, "the first half in ClickHouse")
        note(f"first half landed: {sink.counts()}")
        # every topic deleted and created again under the same ClickHouse
        deploy.stop_worker()
        sink.stop()
        deploy.cli("topics", "delete", "--yes")
        deploy.cli("topics", "create")
        note("topics deleted and created again")
        sink = InProcessSink(deploy.settings)
        deploy.start_worker()
        with _background(lambda: deploy.cli("ingest", "jsonl", str(feeds[1]))):
            if kills >= 3:
                _wait_until(lambda: sink.counts()[0] >= half + (lines - half) // 3, 600,
                            "rows of the second half")  # fmt: skip
                deploy.kill_worker()
                note(f"worker SIGKILLed at {sink.counts()[0]} rows")
                deploy.start_worker()
        _wait_until(lambda: sink.counts()[1] == lines, 900, "every line in ClickHouse")
        time.sleep(3)  # a copy that would land late lands now
        counts = sink.counts()
        report.rows, report.distinct_lines, report.dead_letters, report.aggregated_lines = counts
        note(f"end: rows, distinct lines, dead letters, aggregated lines = {counts}")
    finally:
        deploy.stop_worker()
        sink.stop()
        deploy.cli("topics", "delete", "--yes")
    report.seconds = round(time.monotonic() - began, 1)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--fault-s", type=float, default=60.0)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cw-fault-") as tmp:
        workdir = Path(tmp)
        external = os.environ.get("CUSTOMS_WATCH_KAFKA_BOOTSTRAP")
        script = ROOT / "deploy" / "local-broker"
        broker_env = {**os.environ, "CUSTOMS_WATCH_PYTHON": sys.executable}
        state = workdir / "broker"
        if external:
            bootstrap = external
        else:
            started = subprocess.run(
                [str(script), "start", "--state-dir", str(state)],
                capture_output=True, text=True, env=broker_env, timeout=90, check=True,
            )  # fmt: skip
            bootstrap = started.stdout.strip()
        try:
            report = fault_run(bootstrap, workdir, args.lines, args.fault_s, args.kills)
        finally:
            if not external:
                subprocess.run([str(script), "stop", "--state-dir", str(state)],
                               env=broker_env, timeout=60, check=False)  # fmt: skip
    for event in report.events:
        print(event)
    summary = {
        **asdict(report),
        "exactly_once": report.exactly_once,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    out = results / f"fault-run-{summary['date'].replace(':', '')}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "events"}, indent=2))
    sys.exit(0 if report.exactly_once else 1)


if __name__ == "__main__":
    main()
