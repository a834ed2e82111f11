"""One feed through the real broker, a worker process and the embedded ClickHouse engine."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ingest.broker.admin import group_lag
from ingest.broker.reader import read_to_end
from ingest.synthetic import synthetic_jsonl, synthetic_lines
from schemas.alert import Alert
from schemas.dead_letter import DeadLetter
from schemas.enriched import EnrichedBatch
from schemas.rule_data import default_rules
from stream.warehouse.client import Warehouse
from stream.warehouse.migrations import migrate, migration_files
from stream.warehouse.queries import named_query, via_worker
from stream.warehouse.rows import insert_declarations
from tests.services import Pipeline, wait_for

pytestmark = pytest.mark.integration

MALFORMED = [
    b'{"declaration_id": "BAD-1", "line_no": 1, "declared_at": "2024-02-30", '
    b'"flow": "export", "hs_code": "8542.31"}',
    b'{"declaration_id": "BAD-2", "line_no": 1',
    "BAD-3;1;2024-01-01;Жилет".encode("cp1251"),
]


def line_totals(pipe: Pipeline) -> dict[str, int]:
    url = f"http://127.0.0.1:{pipe.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"
    try:
        result = via_worker(url, "line_totals", timeout_s=5)
    except Exception:  # the web server is not up yet
        return {"lines": -1, "distinct_lines": -1, "alerts": -1}
    return {k: int(v) for k, v in result.as_dicts()[0].items()}


def test_thousand_lines_land_once_and_bad_ones_are_dead_lettered(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(synthetic_jsonl(1000, seed=11, prefix="IT") + b"\n".join(MALFORMED) + b"\n")
    risky = default_rules().alerts.destination_kind
    expected_chpl_keys = {
        (x["declaration_id"], x["line_no"])
        for x in synthetic_lines(1000, seed=11, prefix="IT")
        if risky(x["destination_country"]) is not None
        and "".join(c for c in str(x["hs_code"]) if c.isdigit())[:6]
        in {"854231", "854232", "854239", "852691", "848210", "851762", "901310"}
    }
    assert expected_chpl_keys, "the synthetic feed must contain CHPL lines bound for RU/BY"

    worker = pipeline.start_worker()
    published = pipeline.cli("ingest", "jsonl", str(feed))
    assert "published=1003" in published.stdout

    wait_for(
        lambda: line_totals(pipeline)["lines"] >= 1000, 180, "1000 rows in ClickHouse", pipeline
    )
    pipeline.cli("wait", "--timeout", "120")
    totals = line_totals(pipeline)
    assert totals["lines"] == 1000
    assert totals["distinct_lines"] == 1000

    # The CLI reads through the worker while the worker owns the embedded data directory.
    query = pipeline.cli("query", "category_counts", "--format", "json")
    categories = {row["category"]: row["lines"] for row in orjson.loads(query.stdout)}
    assert sum(categories.values()) >= 1000
    assert categories["microelectronics"] > 0

    settings = pipeline.settings
    letters = [
        DeadLetter.model_validate_json(r.value)
        for r in read_to_end(settings, settings.topics.deadletter)
    ]
    assert sorted(letter.payload for letter in letters) == sorted(MALFORMED)
    by_position = {letter.position: letter for letter in letters}
    assert set(by_position) == {1001, 1002, 1003}
    assert "declared_at" in by_position[1001].reason
    assert by_position[1002].reason.startswith("invalid JSON")
    assert by_position[1003].reason.startswith("invalid JSON")
    assert all(letter.stage == "parse" and letter.source == "jsonl" for letter in letters)

    alerts = [
        Alert.model_validate_json(r.value) for r in read_to_end(settings, settings.topics.alerts)
    ]
    # Alerts are grouped per rule, party, category and 30-day window: the topic has each
    # group once; ClickHouse has every line of every group.
    assert len({a.alert_id for a in alerts}) == len(alerts)
    assert all(
        risky(a.destination_country) is not None
        for a in alerts
        if a.rule not in {"misdeclaration", "flow_surge", "importer_surge"}
    )
    url = f"http://127.0.0.1:{pipeline.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"
    linked = via_worker(url, "alert_lines").as_dicts()
    chpl_keys = {
        (row["declaration_id"], int(row["line_no"]))
        for row in linked
        if row["rule"] == "chpl_to_high_risk"
    }
    assert chpl_keys == expected_chpl_keys
    assert {row["alert_id"] for row in linked} == {a.alert_id for a in alerts}

    enriched = [
        EnrichedBatch.model_validate_json(r.value)
        for r in read_to_end(settings, settings.topics.enriched)
    ]
    assert sum(len(b.lines) for b in enriched) == 1000

    assert pipeline.stop_worker(worker) == 0, pipeline.worker_logs()
    # With the worker gone, the CLI opens the data directory itself and sees the same rows.
    direct = named_query(settings.clickhouse, "line_totals").as_dicts()[0]
    assert (direct["lines"], direct["distinct_lines"]) == (1000, 1000)
    assert direct["alerts"] == len(alerts)


def test_replayed_offsets_do_not_duplicate_rows(pipeline: Pipeline, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(synthetic_jsonl(400, seed=5, prefix="RP"))
    settings = pipeline.settings
    worker = pipeline.start_worker()
    pipeline.cli("ingest", "jsonl", str(feed))
    wait_for(lambda: line_totals(pipeline)["lines"] >= 400, 180, "400 rows", pipeline)
    pipeline.cli("wait", "--timeout", "120")
    assert pipeline.stop_worker(worker) == 0, pipeline.worker_logs()

    # Replay every offset, as after a crash before any commit: a worker with a fresh consumer
    # group reads the raw topic from the beginning and writes the same batches again.
    pipeline.env["CUSTOMS_WATCH_WORKER_APP_ID"] += "-replay"
    raw = settings.topics.raw("jsonl")
    lag = group_lag(settings, pipeline.env["CUSTOMS_WATCH_WORKER_APP_ID"], [raw])
    assert lag[raw] > 0

    pipeline.start_worker()
    pipeline.cli("wait", "--timeout", "180")
    totals = line_totals(pipeline)
    assert totals["lines"] == 400
    assert totals["distinct_lines"] == 400
    # The replayed group parsed and enriched the 400 lines again: 800 enriched lines on the
    # topic, 400 rows, because every insert's dedup token names the raw message the lines
    # came from.
    enriched_lines = sum(
        len(EnrichedBatch.model_validate_json(r.value).lines)
        for r in read_to_end(settings, settings.topics.enriched)
    )
    assert enriched_lines == 800


def test_warehouse_drops_a_batch_replayed_with_the_same_token(tmp_path: Path) -> None:
    from schemas.declaration import Declaration
    from schemas.rule_data import load_rules
    from schemas.settings import ClickHouseSettings
    from stream.stages.enrich import Enricher

    warehouse = Warehouse(ClickHouseSettings(dsn=f"chdb://{tmp_path / 'ch'}"))
    try:
        assert migrate(warehouse) == [p.stem for p in migration_files()]
        assert migrate(warehouse) == []
        lines = [Declaration.model_validate(x) for x in synthetic_lines(50, seed=2)]
        enriched = Enricher(load_rules()).lines(lines)
        insert_declarations(warehouse, enriched.lines, "raw-0-7")
        insert_declarations(warehouse, enriched.lines, "raw-0-7")
        assert warehouse.query("SELECT count() FROM declarations").rows == [[50]]
        insert_declarations(warehouse, enriched.lines, "raw-0-8")
        assert warehouse.query("SELECT count() FROM declarations").rows == [[100]]
    finally:
        warehouse.close()


def test_migrate_refuses_an_applied_file_that_changed(tmp_path: Path) -> None:
    import shutil

    from schemas.settings import ClickHouseSettings
    from stream.errors import WarehouseRejected
    from stream.warehouse.migrations import DDL_DIR

    ddl = tmp_path / "ddl"
    shutil.copytree(DDL_DIR, ddl)
    warehouse = Warehouse(ClickHouseSettings(dsn=f"chdb://{tmp_path / 'ch'}"))
    try:
        migrate(warehouse, ddl)
        path = ddl / "0002_alerts.sql"
        path.write_text(path.read_text() + "\n-- edited\n")
        with pytest.raises(WarehouseRejected, match="changed after it was applied"):
            migrate(warehouse, ddl)
    finally:
        warehouse.close()


def test_stream_and_offline_classify_give_the_same_results(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    samples = Path(__file__).resolve().parents[2] / "ingest" / "samples"
    feed = samples / "demo.jsonl"
    pipeline.cli("watchlist", "load", str(samples / "watchlist_demo.csv"), "--dataset", "demo")
    pipeline.start_worker()
    pipeline.cli("ingest", "jsonl", str(feed))
    pipeline.cli("wait", "--timeout", "120")
    settings = pipeline.settings
    streamed = {
        (line.declaration_id, line.line_no): line
        for record in read_to_end(settings, settings.topics.enriched)
        for line in EnrichedBatch.model_validate_json(record.value).lines
    }
    offline_path = tmp_path / "offline.jsonl"
    pipeline.cli("classify", "--input", str(feed), "--output", str(offline_path))
    offline = {
        (x["declaration_id"], x["line_no"]): x
        for x in map(orjson.loads, offline_path.read_bytes().splitlines())
    }
    assert set(streamed) == set(offline)
    assert len(offline) == 27
    compared = (
        "categories",
        "chpl_tier",
        "evidence",
        "confidence",
        "hs6_known",
        "flags",
        "misdeclaration_suspected",
        "misdeclaration_reason",
        "destination_country",
        "unit_code",
        "alert_rules",
        "screening_hits",
    )
    for key, line in streamed.items():
        stream_view = line.model_dump(mode="json", include=set(compared))
        offline_view = {name: offline[key][name] for name in compared}
        assert stream_view == offline_view, key
    assert any(x["categories"] for x in offline.values())
    assert {"body_armor", "uav", "thermal_imaging"} <= {
        c for x in offline.values() for c in x["categories"]
    }
    hits = {(h["role"], h["entity_id"]) for x in offline.values() for h in x["screening_hits"]}
    assert {("importer", "cw-demo-0001"), ("importer", "cw-demo-0003")} <= hits


def test_the_sink_as_its_own_process_next_to_a_worker_without_one(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(synthetic_jsonl(1500, seed=13, prefix="SP") + MALFORMED[0] + b"\n")
    sink = pipeline.start_sink_beside_stream_worker()
    pipeline.cli("ingest", "jsonl", str(feed))
    pipeline.cli("wait", "--timeout", "180")
    # The CLI finds the sink through the owner file and asks it, as it would a worker.
    totals = orjson.loads(pipeline.cli("query", "line_totals", "--format", "json").stdout)[0]
    assert (totals["lines"], totals["distinct_lines"]) == (1500, 1500)
    letters = orjson.loads(
        pipeline.cli("query", "dead_letters_by_reason", "--format", "json").stdout
    )
    assert [(x["stage"], x["letters"]) for x in letters] == [("parse", 1)]
    assert pipeline.stop_worker(sink) == 0, pipeline.worker_logs()
