"""Publish → alert-on-topic latency at a sustained rate (issue 7 goal: p99 <= 1 s at 2 000
lines/s for 60 s).

One local broker (or CUSTOMS_WATCH_KAFKA_BOOTSTRAP), one `customs-watch worker` process on
the embedded ClickHouse engine, fresh topics. A producer publishes raw batches of
--batch lines every --batch/--rate seconds (what a connector tailing a live feed does),
for --seconds. One line in --every is a CHPL line bound for Russia from an importer never
seen before, so it opens new alert groups and its first alert reaches `<prefix>.alerts`;
the others are ordinary goods. A consumer on the alerts topic notes when each alerting line's
first alert arrives. Latency = arrival − the moment its raw batch was handed to the
producer (both clocks on this machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from bench.run import BIN, ROOT, free_port, line_count, start_broker
from ingest.broker.admin import delete_topics
from ingest.broker.clients import kafka_consumer, kafka_producer
from schemas.raw import RawBatch, RawRecord
from schemas.settings import Settings

RESULTS = ROOT / "bench" / "results"


def line(number: int, alerting: bool) -> dict[str, Any]:
    return {
        "declaration_id": f"LAT-{number:08d}",
        "line_no": 1,
        "declared_at": "2024-05-01",
        "flow": "export",
        "hs_code": "8542.31" if alerting else "6109.10",
        "description": "Microcontroller STM32" if alerting else "Cotton T-shirts",
        "value": 1000,
        "currency": "USD",
        "destination_country": "RU" if alerting else "DE",
        "exporter_name": "Latency Test Exporter Ltd",
        "exporter_country": "CN",
        "importer_name": f"OOO Importer {number:08d}" if alerting else "Shirt Shop GmbH",
        "importer_country": "RU" if alerting else "DE",
        "source": "jsonl",
    }


def raw_batch(numbers: range, every: int) -> bytes:
    records = []
    for n in numbers:
        payload = orjson.dumps(line(n, n % every == 0))
        records.append(
            RawRecord(
                source="jsonl",
                origin="latency",
                position=n,
                payload=payload,
                checksum=hashlib.sha256(payload).hexdigest(),
            )
        )
    return RawBatch(source="jsonl", origin="latency", records=records).model_dump_json().encode()


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=2000, help="lines per second")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--batch", type=int, default=1000, help="lines per raw message")
    parser.add_argument("--every", type=int, default=50, help="one alerting line in N")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cw-latency-"))
    bootstrap, started_broker = start_broker(workdir / "broker")
    tag = uuid.uuid4().hex[:6]
    port = free_port()
    env = {
        **os.environ,
        "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": bootstrap,
        "CUSTOMS_WATCH_TOPICS_PREFIX": f"lat{tag}",
        "CUSTOMS_WATCH_TOPICS_SOURCES": "jsonl",
        "CUSTOMS_WATCH_WORKER_APP_ID": f"lat-{tag}",
        "CUSTOMS_WATCH_WORKER_WEB_PORT": str(port),
        "CUSTOMS_WATCH_WORKER_DATA_DIR": str(workdir / "faust"),
        "CUSTOMS_WATCH_CLICKHOUSE_DSN": f"chdb://{workdir / 'ch'}",
        "CUSTOMS_WATCH_SCREENING_WATCHLIST_DIR": str(workdir / "watchlists"),
    }
    settings = Settings(
        kafka={"bootstrap": bootstrap}, topics={"prefix": f"lat{tag}", "sources": ["jsonl"]}
    )
    cli = str(BIN / "customs-watch")
    subprocess.run([cli, "topics", "create"], env=env, check=True, capture_output=True)
    log = (workdir / "worker.log").open("wb")
    worker = subprocess.Popen([cli, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    arrivals: dict[str, float] = {}
    enriched_at: dict[str, float] = {}
    stop = threading.Event()

    def watch_enriched() -> None:
        consumer = kafka_consumer(
            settings.kafka,
            settings.topics.enriched,
            group_id=f"lat-enriched-{tag}",
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=2000,
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=8 * 1024 * 1024,
        )
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=100).values():
                now = time.time()
                for record in records:
                    for item in orjson.loads(record.value)["lines"]:
                        enriched_at.setdefault(item["declaration_id"], now)
        consumer.close()

    def watch() -> None:
        consumer = kafka_consumer(
            settings.kafka,
            settings.topics.alerts,
            group_id=f"lat-watch-{tag}",
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=2000,
            fetch_max_wait_ms=50,
        )
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=100).values():
                now = time.time()
                for record in records:
                    alert = orjson.loads(record.value)
                    for key in alert["lines"]:
                        arrivals.setdefault(key["declaration_id"], now)
        consumer.close()

    watcher = threading.Thread(target=watch, daemon=True)
    enriched_watcher = threading.Thread(target=watch_enriched, daemon=True)
    try:
        deadline = time.monotonic() + 60
        while line_count(port) < 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        watcher.start()
        enriched_watcher.start()
        time.sleep(8)  # group joins settle (about one session timeout on Tansu)
        producer = kafka_producer(
            settings.kafka, acks="all", linger_ms=0, compression_type="lz4",
            max_request_size=8 * 1024 * 1024,
        )  # fmt: skip
        sent_at: dict[str, float] = {}
        idle_cpu_s = cpu_seconds(worker.pid)
        interval = args.batch / args.rate
        total = args.rate * args.seconds
        started = time.monotonic()
        for first in range(0, total, args.batch):
            due = started + (first // args.batch) * interval
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            numbers = range(first, min(first + args.batch, total))
            value = raw_batch(numbers, args.every)
            now = time.time()
            producer.send(settings.topics.raw("jsonl"), key=b"latency", value=value)
            for n in numbers:
                if n % args.every == 0:
                    sent_at[f"LAT-{n:08d}"] = now
        producer.flush()
        publish_s = time.monotonic() - started
        worker_cpu_s = cpu_seconds(worker.pid) - idle_cpu_s
        deadline = time.monotonic() + 120
        while len(arrivals.keys() & sent_at.keys()) < len(sent_at) and time.monotonic() < deadline:
            time.sleep(0.5)
        stop.set()
        watcher.join(timeout=10)
        enriched_watcher.join(timeout=10)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        delete_topics(settings, settings.topics.all_names())
        if started_broker:
            script = str(ROOT / "deploy" / "local-broker")
            subprocess.run(
                [script, "stop", "--state-dir", str(workdir / "broker")],
                env={**os.environ, "CUSTOMS_WATCH_PYTHON": sys.executable},
                capture_output=True,
                check=False,
            )
    latencies = sorted(arrivals[k] - sent_at[k] for k in sent_at if k in arrivals)
    missing = sorted(k for k in sent_at if k not in arrivals)
    to_enriched = sorted(enriched_at[k] - sent_at[k] for k in sent_at if k in enriched_at)
    report = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        "rate_lines_per_s": args.rate,
        "seconds": args.seconds,
        "lines_per_raw_message": args.batch,
        "alerting_share": round(1 / args.every, 3),
        "take_within_s": float(os.environ.get("CUSTOMS_WATCH_WORKER_TAKE_WITHIN_S", 0.02)),
        "publish_s": round(publish_s, 1),
        "alerting_lines": len(sent_at),
        "alerts_seen": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000) if latencies else None,
        "max_ms": round(latencies[-1] * 1000) if latencies else None,
        "to_enriched_p50_ms": round(statistics.median(to_enriched) * 1000) if to_enriched else None,
        "worker_cpu_share_while_publishing": round(worker_cpu_s / publish_s, 2),
        "missing": len(missing),
        "missing_sample": missing[:5],
        "worker_log": str(workdir / "worker.log"),
    }
    text = json.dumps(report, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"alert-latency-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
