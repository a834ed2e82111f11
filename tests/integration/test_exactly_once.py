"""100 000 lines through worker processes that are killed and joined by another worker.

The worker (stream agents + sink) is SIGKILLed twice at random points and restarted; then a
second worker (stream agents only: the embedded engine has one owner) joins the group and
takes partitions. At the end ClickHouse holds every line exactly once.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import pytest

from ingest.synthetic import synthetic_jsonl
from stream.warehouse.queries import via_worker
from tests.services import Pipeline, free_port, wait_for

pytestmark = pytest.mark.integration

LINES = 100_000


def counts(pipe: Pipeline) -> tuple[int, int]:
    url = f"http://127.0.0.1:{pipe.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"
    try:
        row = via_worker(url, "line_totals", timeout_s=10).as_dicts()[0]
    except Exception:  # not up yet, or just killed
        return -1, -1
    return int(row["lines"]), int(row["distinct_lines"])


def test_every_line_lands_once_through_two_kills_and_a_rebalance(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    seed = int(os.environ.get("CUSTOMS_WATCH_TEST_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    kill_points = sorted(rng.sample(range(10_000, 80_000, 1000), 2))
    why = f"(seed {seed}, kills after {kill_points} rows)"
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(synthetic_jsonl(LINES, seed=11, prefix="EO"))

    worker = pipeline.start_worker()
    pipeline.cli("ingest", "jsonl", str(feed), timeout=300)
    for point in kill_points:
        wait_for(lambda p=point: counts(pipeline)[0] >= p, 300, f"{point} rows {why}", pipeline)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        pipeline.workers.remove(worker)
        worker = pipeline.start_worker()

    # A second worker joins: the stream group rebalances while lines are still flowing.
    helper_env = {**pipeline.env, "CUSTOMS_WATCH_WORKER_WEB_PORT": str(free_port())}
    helper_env["CUSTOMS_WATCH_WORKER_DATA_DIR"] += "-second"
    saved = pipeline.env
    pipeline.env = helper_env
    try:
        pipeline.start_worker(extra=["--no-sink"])
    finally:
        pipeline.env = saved

    pipeline.cli("wait", "--timeout", "600", timeout=660)
    lines, distinct = counts(pipeline)
    assert (lines, distinct) == (LINES, LINES), f"{lines} rows, {distinct} distinct {why}"
