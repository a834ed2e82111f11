"""Lines without a usable commodity code go through the real broker and worker into
ClickHouse, classified on their text and carrying how their code was read."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ingest.broker.reader import read_to_end
from stream.warehouse.client import Warehouse
from tests.services import Pipeline, wait_for

pytestmark = pytest.mark.integration

BASE = {"declared_at": "2024-03-01", "flow": "import", "destination_country": "RU"}
LINES = [
    {"declaration_id": "NC-1", "line_no": 1, "description": "Квадрокоптер DJI Mavic 3T"},
    {"declaration_id": "NC-2", "line_no": 1, "hs_code": "N/A",
     "description": "Thermal imaging camera 640x512 uncooled microbolometer"},
    {"declaration_id": "NC-3", "line_no": 1, "hs_code": "8802.20",
     "description": "Unmanned aircraft, quadcopter, take-off mass 0.9 kg"},
    {"declaration_id": "NC-4", "line_no": 1, "hs_code": "8542",
     "description": "Microcontroller 32-bit ARM Cortex-M4, LQFP64"},
    {"declaration_id": "NC-5", "line_no": 1, "hs_code": "0", "description": "Cotton T-shirts"},
]  # fmt: skip


def test_lines_without_a_usable_code_land_with_their_status(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b"".join(orjson.dumps({**BASE, **x}) + b"\n" for x in LINES))
    worker = pipeline.start_worker()
    assert "published=5" in pipeline.cli("ingest", "jsonl", str(feed)).stdout

    def landed() -> bool:
        url = f"http://127.0.0.1:{pipeline.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"
        from stream.warehouse.queries import via_worker

        try:
            return int(via_worker(url, "line_totals", timeout_s=5).as_dicts()[0]["lines"]) >= 5
        except Exception:  # the web server is not up yet
            return False

    wait_for(landed, 180, "5 rows in ClickHouse", pipeline)
    pipeline.cli("wait", "--timeout", "120")
    assert pipeline.stop_worker(worker) == 0, pipeline.worker_logs()

    settings = pipeline.settings
    assert list(read_to_end(settings, settings.topics.deadletter)) == []
    warehouse = Warehouse(settings.clickhouse)
    try:
        rows = warehouse.query(
            "SELECT declaration_id, hs_code, hs_code_status, hs_version, categories "
            "FROM declarations ORDER BY declaration_id"
        ).rows
    finally:
        warehouse.close()
    assert [(r[0], r[1], r[2], r[3], sorted(r[4])) for r in rows] == [
        # The Mavic 3T is the thermal variant (schemas/rules/product_models.yaml).
        ("NC-1", "", "missing", "", ["thermal_imaging", "uav"]),
        ("NC-2", "N/A", "missing", "", ["thermal_imaging"]),
        ("NC-3", "8802.20", "valid", "HS2017", ["uav"]),
        ("NC-4", "8542", "heading_only", "", ["microelectronics"]),
        ("NC-5", "0", "unreadable", "", []),
    ]
