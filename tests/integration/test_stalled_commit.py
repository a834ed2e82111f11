"""A partition whose commit stopped (faust lost the acknowledgement of two delivered records)
is read again from its committed offset, and every line still lands once.

The worker runs with ``tests/integration/fault_injection`` on its PYTHONPATH: its
``sitecustomize`` makes faust's consumer lose the acknowledgement of ``facts`` records 3 and 4
of partition 0. faust then never commits that partition past 3 (its commit stops at the first
offset not acknowledged): without the stalled-commit watch ``customs-watch wait`` would time
out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.synthetic import synthetic_jsonl
from stream.warehouse.queries import via_worker
from tests.services import Pipeline

pytestmark = pytest.mark.integration

LINES = 12_000
INJECTION = Path(__file__).parent / "fault_injection"


def test_a_stalled_commit_is_read_again_and_every_line_lands_once(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(synthetic_jsonl(LINES, seed=5, prefix="SC"))
    path = os.pathsep.join(p for p in (str(INJECTION), os.environ.get("PYTHONPATH", "")) if p)
    pipeline.env = {
        **pipeline.env,
        "PYTHONPATH": path,
        "CUSTOMS_WATCH_TEST_LOSE_ACKS": ".facts:0:3,.facts:0:4",
        "CUSTOMS_WATCH_WORKER_COMMIT_STALL_S": "4",
        "CUSTOMS_WATCH_INGEST_BATCH_RECORDS": "500",  # 24 raw messages: a dozen facts per partition
    }
    pipeline.start_worker()
    pipeline.cli("ingest", "jsonl", str(feed), timeout=300)
    pipeline.cli("wait", "--timeout", "180", timeout=240)

    logs = "\n".join(p.read_text(errors="replace") for p in pipeline.workdir.glob("worker-*.log"))
    facts = f"{pipeline.settings.topics.facts}"
    assert "commits stalled" in logs and f"topic={facts} partition=0 offset=3" in logs, logs[-3000:]
    url = f"http://127.0.0.1:{pipeline.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"
    row = via_worker(url, "line_totals", timeout_s=30).as_dicts()[0]
    assert (int(row["lines"]), int(row["distinct_lines"])) == (LINES, LINES)
