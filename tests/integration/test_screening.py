"""Screening in the stream: hits on the enriched topic and in ClickHouse, new lists picked up
by a running worker without a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.broker.reader import read_to_end
from schemas.enriched import EnrichedBatch
from stream.warehouse.queries import via_worker
from tests.services import Pipeline, wait_for

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "ingest" / "samples"


def line(number: int, importer: str, country: str = "RU", **more: Any) -> bytes:
    record = {
        "declaration_id": f"SCR-{number}",
        "line_no": 1,
        "declared_at": "2024-06-01",
        "flow": "export",
        "hs_code": "8542.31",
        "description": "Microcontroller",
        "destination_country": country,
        "exporter_name": "Unlisted Components Co., Ltd",
        "exporter_country": "CN",
        "importer_name": importer,
        "importer_country": country,
        **more,
    }
    return orjson.dumps(record)


def enriched_hits(pipe: Pipeline) -> dict[str, set[tuple[str, str, str]]]:
    topics = pipe.settings.topics
    return {
        row.declaration_id: {(h.role, h.entity_id, h.dataset) for h in row.screening_hits}
        for record in read_to_end(pipe.settings, topics.enriched)
        for row in EnrichedBatch.model_validate_json(record.value).lines
    }


def parties_with_hits(pipe: Pipeline) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{pipe.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"
    return via_worker(url, "parties_with_hits", timeout_s=10).as_dicts()


def test_hits_reach_topic_and_clickhouse_and_a_new_list_needs_no_restart(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    loaded = pipeline.cli("watchlist", "load", str(SAMPLES / "watchlist_demo.csv"))
    assert "entities=7" in loaded.stdout and "rejected=0" in loaded.stdout
    pipeline.start_worker()

    first = tmp_path / "first.jsonl"
    first.write_bytes(
        b"\n".join(
            [
                line(1, 'ООО "ВЕКТОР-СНАБ"'),
                line(2, "Vektor Snab, LLC"),
                line(3, "ООО ВЕКТОР-СТРОЙ"),
                line(4, "Vektor Supply GmbH", "DE"),
                line(5, "Some Name", importer_id="7702-345671"),
                line(6, "Pozitron Trade LLC"),
            ]
        )
        + b"\n"
    )
    pipeline.cli("ingest", "jsonl", str(first))
    pipeline.cli("wait", "--timeout", "120")
    hits = enriched_hits(pipeline)
    assert hits == {
        "SCR-1": {("importer", "cw-demo-0001", "watchlist_demo")},
        "SCR-2": {("importer", "cw-demo-0001", "watchlist_demo")},
        "SCR-3": {("importer", "cw-demo-0004", "watchlist_demo")},
        "SCR-4": set(),
        "SCR-5": {("importer", "cw-demo-0003", "watchlist_demo")},
        "SCR-6": set(),  # not listed yet
    }

    # a second list, in FollowTheMoney form, while the worker runs
    pipeline.cli("watchlist", "load", str(SAMPLES / "watchlist_demo.ftm.json"), "--dataset", "ftm")
    wait_for(
        lambda: 'datasets="ftm=3,watchlist_demo=7"' in pipeline.worker_logs(),
        30,
        "the worker to reload its watchlists",
        pipeline,
    )
    second = tmp_path / "second.jsonl"
    second.write_bytes(line(7, "ООО «Позитрон Трейд»") + b"\n")
    pipeline.cli("ingest", "jsonl", str(second))
    pipeline.cli("wait", "--timeout", "120")
    assert enriched_hits(pipeline)["SCR-7"] == {("importer", "cw-ftm-0002", "ftm")}

    rows = parties_with_hits(pipeline)
    by_party = {(r["party"], r["entity_id"]): r for r in rows}
    # one row per party: the Cyrillic and the Latin spelling of Vektor-Snab are one party,
    # shown by its most frequent spelling with the other among its other names
    (vektor,) = [r for r in rows if r["entity_id"] == "cw-demo-0001"]
    assert {vektor["party"], *vektor["other_names"]} == {'ООО "ВЕКТОР-СНАБ"', "Vektor Snab, LLC"}
    assert {(r["party"], r["entity_id"]) for r in rows if r is not vektor} == {
        ("ООО ВЕКТОР-СТРОЙ", "cw-demo-0004"),
        ("Some Name", "cw-demo-0003"),
        ("ООО «Позитрон Трейд»", "cw-ftm-0002"),
    }
    identified = by_party[("Some Name", "cw-demo-0003")]
    assert float(identified["best_score"]) == 1.0
    assert identified["dataset"] == "watchlist_demo"
