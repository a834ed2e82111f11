"""The same feed leaves the same alerts standing however it is partitioned and processed
(issue 16): one partition and one worker, against four partitions, the file cut into chunks
that spread over them, two workers and a separate sink.

The feed is the benchmark's shape (distinct texts, Zipf parties) with declaration dates
spread over 2021-2024 in no order, so importers' first lines, their months' baselines and
the flows' previous quarters arrive late in one run and early in the other.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from kafka import TopicPartition

from bench.feed import realistic_lines
from ingest.broker.reader import new_consumer
from tests.services import Pipeline, deployment, free_port

LINES = 3_000


def scattered_feed(path: Path) -> Path:
    rng = random.Random(16)
    day_of: dict[str, date] = {}
    with path.open("wb") as out:
        for line in realistic_lines(LINES, seed=16, importers=150, exporters=60):
            declared = day_of.setdefault(
                line["declaration_id"], date(2021, 1, 1) + timedelta(days=rng.randrange(4 * 365))
            )
            line["declared_at"] = declared.isoformat()
            out.write(orjson.dumps(line) + b"\n")
    return path


def standing(pipe: Pipeline) -> dict[tuple[str, str], int]:
    """(rule, alert id) → line count of every alert standing (withdrawn ones left out)."""
    rows: list[dict[str, Any]] = orjson.loads(
        pipe.cli("query", "alerts_by_rule", "--format", "json").stdout
    )
    return {(row["rule"], row["alert_id"]): int(row["lines"]) for row in rows}


def raw_partitions_used(pipe: Pipeline) -> int:
    topic = pipe.settings.topics.raw("jsonl")
    consumer = new_consumer(pipe.settings)
    try:
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(4)])
    finally:
        consumer.close()
    return sum(1 for end in ends.values() if end > 0)


def run(pipe: Pipeline, feed: Path, workers: int) -> dict[tuple[str, str], int]:
    if workers == 1:
        pipe.start_worker()
    else:
        pipe.start_worker(command="sink")
        for _ in range(workers):
            env = {**pipe.env, "CUSTOMS_WATCH_WORKER_WEB_PORT": str(free_port())}
            pipe.start_worker(["--no-sink"], env=env)
    pipe.cli("ingest", "jsonl", str(feed))
    pipe.cli("wait", "--timeout", "240", timeout=300)
    return standing(pipe)


def test_one_partition_and_four_leave_the_same_alerts_standing(
    bootstrap: str, tmp_path: Path
) -> None:
    feed = scattered_feed(tmp_path / "scattered.jsonl")
    with deployment(bootstrap, tmp_path / "one", partitions=1) as pipe:
        one = run(pipe, feed, workers=1)
    chunks = {"CUSTOMS_WATCH_INGEST_CHUNK_RECORDS": "400"}
    with deployment(bootstrap, tmp_path / "four", partitions=4, extra_env=chunks) as pipe:
        four = run(pipe, feed, workers=2)
        used = raw_partitions_used(pipe)
    assert used >= 3  # the file's chunks spread over the partitions
    rules = {rule for rule, _ in one}
    assert {"new_importer_chpl", "importer_surge", "flow_surge"} <= rules, rules
    assert one == four
