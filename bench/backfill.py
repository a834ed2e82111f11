"""A backfill: one large file through two workers and a sink, timed until everything is done.

``python -m bench.backfill [--lines 10000000] [--chunk-records 200000]``: writes the
realistic feed (bench/feed.py) to one JSONL file, then runs ``customs-watch ingest jsonl``
on it with two ``worker --no-sink`` processes and one ``sink`` on a 4-partition topic set.
The file is cut into chunks of ``--chunk-records`` positions, each on its own partition, so
both workers get a share. Reports time to done (every row in ClickHouse, every topic
consumed), lines/s, CPU per process per 1 000 lines and the raw messages per partition.
Not part of ``make test``; recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.feed import write_realistic_jsonl
from bench.pipeline import pipeline_run
from bench.run import save_result, start_broker, stop_broker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--chunk-records", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cw-backfill-"))
    feed_path = workdir / "backfill.jsonl"
    write_realistic_jsonl(feed_path, args.lines, seed=3)
    bootstrap, started = start_broker(workdir / "broker")
    pid_file = workdir / "broker" / "tansu.pid"
    broker_pid = int(pid_file.read_text()) if started and pid_file.exists() else None
    try:
        run = pipeline_run(
            bootstrap,
            feed_path,
            args.lines,
            workdir / "run",
            workers=args.workers,
            extra_env={
                "CUSTOMS_WATCH_INGEST_CHUNK_RECORDS": str(args.chunk_records),
                "CUSTOMS_WATCH_TOPICS_PARTITIONS": "4",
            },
            broker_pid=broker_pid,
        )
    finally:
        if started:
            stop_broker(workdir / "broker")
    print(f"backfill: {run}")
    save_result(
        {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
            "file_bytes": feed_path.stat().st_size,
            "chunk_records": args.chunk_records,
            "workers": args.workers,
            "run": run,
        },
        stem="backfill-",
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
