"""`make bench`: the CSV connector's publish rate on one core, 1 KB rows.

A Russian-layout export (``ru_import_declarations``, cp1251, ``;``) of N rows padded to about
1 KB each is published by the same code as ``customs-watch ingest csv``: read and split the
file (encoding detected), one raw record per row with its exact bytes, batches of
``CUSTOMS_WATCH_INGEST_BATCH_RECORDS`` (default 1 000), idempotent producer with acks=all,
lz4, ``linger_ms`` from the settings, a resume point written after each acknowledged batch.
Timed from opening the file to the last acknowledgement; the process's CPU time is printed
too (the producer's I/O thread included). Target: ≥ 30 000 rows/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.run import save_result, start_broker, stop_broker
from ingest.broker.admin import create_topics, delete_topics
from ingest.connectors.tabular import TabularConnector
from ingest.run import SourcePublisher
from schemas.mapping import packaged_mappings
from schemas.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "ingest" / "samples" / "tabular" / "ru_declarations_cp1251.csv"


def make_feed(path: Path, rows: int, row_bytes: int) -> int:
    lines = SAMPLE.read_bytes().split(b"\r\n")
    header, row = lines[0], lines[3]
    cells = row.split(b";")
    pad = max(0, row_bytes - len(row))
    words = cells[4].decode("cp1251").split()
    filler = " ".join(words[(n % len(words))] for n in range(pad)).encode("cp1251")
    cells[4] = (cells[4] + b" " + filler)[: len(cells[4]) + pad]
    with path.open("wb") as out:
        out.write(header + b"\r\n")
        for n in range(rows):
            cells[0] = f"10702070/120324/{n:07d}".encode()
            out.write(b";".join(cells) + b"\r\n")
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--row-bytes", type=int, default=1024)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cw-bench-csv-"))
    bootstrap, started = start_broker(work / "broker")
    prefix = f"bc{uuid.uuid4().hex[:6]}"
    settings = Settings(
        kafka={"bootstrap": bootstrap},
        topics={"prefix": prefix, "sources": ["csv"]},
        ingest={"state_dir": work / "state"},
    )
    try:
        create_topics(settings)
        feed = work / "feed.csv"
        size = make_feed(feed, args.rows, args.row_bytes)
        target = SourcePublisher(settings, settings.topics.raw("csv"))
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        connector = TabularConnector(
            feed, "csv", packaged_mappings()["ru_import_declarations"], "csv"
        )
        summary = target.publish(connector.feed())
        elapsed = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        target.close()
        delete_topics(settings, settings.topics.all_names())
    finally:
        if started:
            stop_broker(work / "broker")
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    result = {
        "bench": "ingest_csv",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "rows": summary.records,
        "row_bytes": round(size / args.rows),
        "batch_records": settings.ingest.batch_records,
        "compression": settings.kafka.compression,
        "linger_ms": settings.kafka.linger_ms,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(summary.records / elapsed),
        "cpu_seconds": round(cpu, 2),
        "rows_per_cpu_s": round(summary.records / cpu),
    }
    print(json.dumps(result, indent=2))
    save_result(result, "ingest-csv-")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
