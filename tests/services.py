"""Real parts for the integration and reliability tests: one Kafka broker per session, a
worker process per test (fixtures registered by tests/conftest.py).

The broker is the local Tansu started by ``deploy/local-broker`` (or the cluster named by
``CUSTOMS_WATCH_KAFKA_BOOTSTRAP``). If it cannot start, the run fails with its log: no test
is skipped for a missing service. Each test gets its own topic prefix, consumer group and
embedded ClickHouse directory, and deletes its topics at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingest.broker.admin import create_topics, delete_topics
from schemas.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLI = str(BIN / "customs-watch")
SOURCES = ["jsonl", "csv", "xlsx", "cusdec", "watch", "http"]


@pytest.fixture(scope="session")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("CUSTOMS_WATCH_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    state = tmp_path_factory.mktemp("broker")
    script = ROOT / "deploy" / "local-broker"
    env = {**os.environ, "CUSTOMS_WATCH_PYTHON": sys.executable}
    started = subprocess.run(
        [str(script), "start", "--state-dir", str(state)],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
    )
    if started.returncode != 0:
        pytest.fail(f"the local Kafka broker did not start:\n{started.stderr}", pytrace=False)
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(
            [str(script), "stop", "--state-dir", str(state)],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Pipeline:
    """One isolated deployment: topics, group, ClickHouse dir, and the env that selects them."""

    env: dict[str, str]
    settings: Settings
    workdir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _started: int = 0

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert result.returncode == 0, f"customs-watch {' '.join(args)}:\n{result.stderr}"
        return result

    def start_worker(
        self,
        extra: list[str] | None = None,
        command: str = "worker",
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"worker-{self._started}.log").open("wb")
        self._started += 1
        process = subprocess.Popen(
            [CLI, command, *(extra or [])],
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.workers.append(process)
        return process

    def start_sink_beside_stream_worker(self) -> subprocess.Popen[bytes]:
        """``customs-watch sink`` and a ``worker --no-sink`` (on a web port of its own);
        returns the sink."""
        sink = self.start_worker(command="sink")
        port = str(free_port())
        self.start_worker(["--no-sink"], env={**self.env, "CUSTOMS_WATCH_WORKER_WEB_PORT": port})
        return sink

    def stop_worker(self, process: subprocess.Popen[bytes], grace_s: float = 30) -> int:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return process.returncode

    def worker_logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:] for p in sorted(self.workdir.glob("worker-*.log"))
        )


@contextmanager
def deployment(
    bootstrap: str, tmp_path: Path, partitions: int = 2, extra_env: dict[str, str] | None = None
) -> Iterator[Pipeline]:
    """One isolated deployment under ``tmp_path``, its topics deleted afterwards."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": bootstrap,
        "CUSTOMS_WATCH_TOPICS_PREFIX": f"t{tag}",
        "CUSTOMS_WATCH_TOPICS_SOURCES": ",".join(SOURCES),
        "CUSTOMS_WATCH_TOPICS_PARTITIONS": str(partitions),
        "CUSTOMS_WATCH_WORKER_APP_ID": f"cw-test-{tag}",
        "CUSTOMS_WATCH_WORKER_WEB_PORT": str(free_port()),
        "CUSTOMS_WATCH_WORKER_DATA_DIR": str(tmp_path / "faust"),
        "CUSTOMS_WATCH_CLICKHOUSE_DSN": f"chdb://{tmp_path / 'clickhouse'}",
        "CUSTOMS_WATCH_SCREENING_WATCHLIST_DIR": str(tmp_path / "watchlists"),
        "CUSTOMS_WATCH_SCREENING_RELOAD_INTERVAL_S": "1",
        "CUSTOMS_WATCH_INGEST_STATE_DIR": str(tmp_path / "ingest-state"),
        **(extra_env or {}),
    }
    settings = Settings(
        kafka={"bootstrap": bootstrap},
        topics={
            "prefix": f"t{tag}",
            "sources": SOURCES,
            "partitions": partitions,
        },
        worker={"app_id": f"cw-test-{tag}"},
        clickhouse={"dsn": env["CUSTOMS_WATCH_CLICKHOUSE_DSN"]},
        screening={"watchlist_dir": tmp_path / "watchlists", "reload_interval_s": 1},
        ingest={"state_dir": tmp_path / "ingest-state"},
    )
    create_topics(settings)
    pipe = Pipeline(env=env, settings=settings, workdir=tmp_path)
    try:
        yield pipe
    finally:
        for process in pipe.workers:
            pipe.stop_worker(process, grace_s=15)
        delete_topics(settings, settings.topics.all_names())


@pytest.fixture
def pipeline(bootstrap: str, tmp_path: Path) -> Iterator[Pipeline]:
    with deployment(bootstrap, tmp_path) as pipe:
        yield pipe


def wait_for(predicate: object, timeout_s: float, what: str, pipe: Pipeline) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        for process in pipe.workers:
            if process.poll() is not None:
                pytest.fail(f"worker exited with {process.returncode}:\n{pipe.worker_logs()}")
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}\n{pipe.worker_logs()}")
