"""A registration date from a loaded FtM list, through the real broker, a worker and the
stateful rule: ``new_importer_chpl`` says how long before its first CHPL line the importer
was registered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.services import Pipeline, wait_for

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "ingest" / "samples"


def line(number: int, day: str) -> dict[str, Any]:
    return {
        "declaration_id": f"INC-{number:03d}",
        "line_no": 1,
        "declared_at": day,
        "flow": "export",
        "reporter": "KZ",
        "hs_code": "8542.31",
        "description": "Microcontrollers STM32, reels",
        "quantity": 5000,
        "unit": "pcs",
        "value": 120000,
        "currency": "USD",
        "origin_country": "US",
        "dispatch_country": "KZ",
        "destination_country": "RU",
        "exporter_name": "Almaty Tech Supply LLP",
        "exporter_country": "KZ",
        "importer_name": "OOO Pozitron Trade",  # "Pozitron Trade LLC" on the FtM list
        "importer_country": "RU",
        "source": "jsonl",
    }


def test_new_importer_alert_counts_the_days_from_the_listed_registration(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    ftm = SAMPLES / "watchlist_demo.ftm.json"  # Pozitron: incorporationDate 2022-11-21
    pipeline.cli("watchlist", "load", str(ftm), "--dataset", "demo-ftm")
    pipeline.start_worker()
    # the later line first: the state keeps the earliest date whatever the order
    for name, fields in (("later", line(2, "2024-04-01")), ("earlier", line(1, "2024-03-06"))):
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(orjson.dumps(fields) + b"\n")
        pipeline.cli("ingest", "jsonl", str(path), "--source", "jsonl")
    pipeline.cli("wait", "--timeout", "120")

    # the topic tells watchers of an alert once; the warehouse keeps its latest version
    def latest() -> list[dict[str, Any]]:
        rows = pipeline.cli("query", "recent_alerts", "--format", "json").stdout
        return [r for r in orjson.loads(rows) if r["rule"] == "new_importer_chpl"]

    expected = "registered on 2022-11-21, 471 days before its first CHPL/battlefield line"
    wait_for(lambda: any(expected in r["reason"] for r in latest()), 60, expected, pipeline)
    (alert,) = latest()
    assert "first seen in the feed on 2024-03-06" in alert["reason"]
