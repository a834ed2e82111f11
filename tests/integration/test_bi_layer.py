"""The BI layer on the real embedded engine: aggregates fed once per batch, views, TTLs, role."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.synthetic import synthetic_lines
from schemas.declaration import Declaration
from schemas.rule_data import load_rules
from schemas.settings import ClickHouseSettings
from stream.stages.enrich import Enricher
from stream.warehouse.client import Warehouse
from stream.warehouse.migrations import apply_ttls, migrate, migration_files
from stream.warehouse.queries import named_queries, run_named_query
from stream.warehouse.rows import DECLARATION_COLUMNS, PARTY_MERGE_COLUMNS, declaration_row

pytestmark = pytest.mark.integration


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    wh = Warehouse(ClickHouseSettings(dsn=f"chdb://{tmp_path / 'ch'}", declarations_ttl_days=3650))
    migrate(wh)
    apply_ttls(wh)
    return wh


def one(wh: Warehouse, sql: str) -> object:
    return wh.query(sql).rows[0][0]


def test_aggregates_follow_the_lines_and_a_replayed_batch_feeds_them_nothing(
    warehouse: Warehouse,
) -> None:
    lines = [Declaration.model_validate(x) for x in synthetic_lines(600, seed=4)]
    rows = [declaration_row(x) for x in Enricher(load_rules()).lines(lines).lines]
    for token in ("t-0-0-299", "t-0-0-299", "t-0-300-599"):  # the second is a replay
        half = rows[:300] if token.endswith("299") else rows[300:]
        warehouse.insert_rows("declarations", half, DECLARATION_COLUMNS, token)
    assert one(warehouse, "SELECT count() FROM declarations") == 600
    assert one(warehouse, "SELECT sum(lines) FROM daily_lines") == 600
    categorised = one(warehouse, "SELECT sum(length(categories)) FROM declarations")
    assert categorised and one(warehouse, "SELECT sum(lines) FROM daily_categories") == categorised
    assert one(warehouse, "SELECT sum(lines) FROM monthly_category_destination") == categorised
    value = float(one(warehouse, "SELECT sum(value_usd) FROM declarations"))  # type: ignore[arg-type]
    assert float(one(warehouse, "SELECT sum(value_usd) FROM daily_lines")) == pytest.approx(value)  # type: ignore[arg-type]
    first = warehouse.query(
        "SELECT party_id, min(declared_at), max(declared_at), count() FROM declaration_parties "
        "WHERE role = 'importer' GROUP BY party_id ORDER BY party_id"
    ).rows
    seen = warehouse.query(
        "SELECT importer_party_id, first_seen, last_seen, lines FROM importer_first_seen "
        "ORDER BY importer_party_id"
    ).rows
    assert seen == first
    # the written-name tables of 0007 are kept but no longer fed (0019)
    assert one(warehouse, "SELECT count() FROM daily_lines_by_name") == 0
    assert one(warehouse, "SELECT count() FROM importer_first_seen_by_name") == 0


# What the party views of 0016 computed from every line; 0018 reads the aggregates instead.
NEW_IMPORTERS_BY_SCAN = """
SELECT party_id, argMaxIf(country, declared_at, country != ''), min(declared_at),
       max(declared_at), count()
FROM declaration_parties WHERE role = 'importer' GROUP BY party_id ORDER BY party_id
"""
BATTLEFIELD_BY_SCAN = """
SELECT party_id, round(sum(value_usd)), count(), min(declared_at), max(declared_at)
FROM declaration_parties
WHERE role = 'importer' AND hasAny(categories, ['body_armor', 'helmet', 'armor_ceramics',
    'uav', 'thermal_imaging', 'night_vision', 'weapon_optics', 'firearms'])
GROUP BY party_id ORDER BY party_id
"""
DAILY_IMPORTERS_BY_SCAN = """
SELECT day, importer_party_id, sum(lines), round(sum(value_usd))
FROM (SELECT declared_at AS day, party_id AS importer_party_id, 1 AS lines, value_usd
      FROM declaration_parties WHERE role = 'importer')
GROUP BY day, importer_party_id ORDER BY day, importer_party_id
"""
DISPLAY_BY_SCAN = """
SELECT party_id, argMax(name, (lines, name)), arraySort(groupArray(name))
FROM (SELECT party_id, name, count() AS lines FROM declaration_parties WHERE name != ''
      GROUP BY party_id, name)
GROUP BY party_id ORDER BY party_id
"""


def test_party_aggregates_answer_as_a_scan_of_the_lines_and_regroup_on_a_merge(
    warehouse: Warehouse,
) -> None:
    lines = [Declaration.model_validate(x) for x in synthetic_lines(400, seed=7)]
    rows = [declaration_row(x) for x in Enricher(load_rules()).lines(lines).lines]
    warehouse.insert_rows("declarations", rows[:200], DECLARATION_COLUMNS, "p-0")
    warehouse.insert_rows("declarations", rows[:200], DECLARATION_COLUMNS, "p-0")  # replay
    warehouse.insert_rows("declarations", rows[200:], DECLARATION_COLUMNS, "p-1")
    assert one(warehouse, "SELECT sum(lines) FROM daily_party_lines") == 400

    def compare() -> list[list[object]]:
        new = warehouse.query(
            "SELECT importer_party_id, importer_country, first_seen, last_seen, lines "
            "FROM bi_new_importers(since = '2000-01-01') ORDER BY importer_party_id"
        ).rows
        assert new == warehouse.query(NEW_IMPORTERS_BY_SCAN).rows
        top = warehouse.query(
            "SELECT importer_party_id, value_usd, lines, first_seen, last_seen "
            "FROM bi_top_importers_battlefield(since = '2000-01-01') ORDER BY importer_party_id"
        ).rows
        scan = warehouse.query(BATTLEFIELD_BY_SCAN).rows
        assert 0 < len(scan) < 20 and top == scan  # fewer than the view's LIMIT: all of them
        display = warehouse.query(
            "SELECT party_id, display_name, names FROM party_display ORDER BY party_id"
        ).rows
        assert display == warehouse.query(DISPLAY_BY_SCAN).rows
        # the views under 0007's names (0019): by party, with its display name
        first_seen = warehouse.query(
            "SELECT importer_party_id, importer_country, first_seen, last_seen, lines "
            "FROM importer_first_seen ORDER BY importer_party_id"
        ).rows
        assert first_seen == new
        daily = warehouse.query(
            "SELECT day, importer_party_id, sum(lines), round(sum(value_usd)) FROM daily_lines "
            "WHERE importer_party_id != '' GROUP BY day, importer_party_id "
            "ORDER BY day, importer_party_id"
        ).rows
        assert daily == warehouse.query(DAILY_IMPORTERS_BY_SCAN).rows
        names = warehouse.query(
            "SELECT DISTINCT l.importer_name = d.display_name FROM daily_lines AS l "
            "LEFT JOIN party_display AS d ON d.party_id = l.importer_party_id "
            "WHERE l.importer_party_id != ''"
        ).rows
        assert names == [[True]]
        return new

    before = compare()
    # two importers are found to be one: the views regroup, nothing is reinserted
    (a, b) = [r[0] for r in before[:2]]
    warehouse.insert_rows(
        "party_merges",
        [["e-1", "merge", b, a, "test: shared identifier", datetime(2026, 1, 1, tzinfo=UTC), "t"]],
        PARTY_MERGE_COLUMNS,
        "m-1",
    )
    after = compare()
    assert len(after) == len(before) - 1
    (merged,) = [r for r in after if r[0] == a]
    assert merged[4] == before[0][4] + before[1][4]
    # the party parameter finds the party a merged id or any of its names stands for
    name_of_b = one(warehouse, f"SELECT any(name) FROM party_names WHERE written_party = '{b}'")
    for wanted in (b, a, str(name_of_b).upper()):
        profile = run_named_query(warehouse, "party_profile", party=wanted).as_dicts()
        assert [r["party_id"] for r in profile] == [a], wanted
        assert str(name_of_b) in profile[0]["names"]
    everyone = run_named_query(warehouse, "party_profile").as_dicts()
    assert len(everyone) > 1
    assert run_named_query(warehouse, "party_profile", party="zz-none").rows == []
    assert one(warehouse, "SELECT sum(lines) FROM daily_party_lines") == 400
    assert one(warehouse, "SELECT sum(lines) FROM daily_lines") == 400


def test_the_party_aggregates_are_back_filled_from_lines_landed_before_them(
    tmp_path: Path,
) -> None:
    wh = Warehouse(ClickHouseSettings(dsn=f"chdb://{tmp_path / 'ch'}"))
    before = tmp_path / "before"
    before.mkdir()
    for path in migration_files():
        if path.name < "0018":
            shutil.copy(path, before / path.name)
    migrate(wh, before)
    lines = [Declaration.model_validate(x) for x in synthetic_lines(150, seed=9)]
    rows = [declaration_row(x) for x in Enricher(load_rules()).lines(lines).lines]
    wh.insert_rows("declarations", rows, DECLARATION_COLUMNS, "b-0")
    old_new_importers = wh.query(
        "SELECT * FROM bi_new_importers(since = '2000-01-01') ORDER BY importer_party_id"
    ).rows
    assert migrate(wh)[0] == "0018_party_aggregates"
    assert one(wh, "SELECT sum(lines) FROM daily_party_lines") == 150
    assert (
        wh.query(
            "SELECT * FROM bi_new_importers(since = '2000-01-01') ORDER BY importer_party_id"
        ).rows
        == old_new_importers
    )


def test_daily_lines_and_importer_first_seen_become_party_views_over_the_same_lines(
    tmp_path: Path,
) -> None:
    """An upgrade through 0019: the written-name tables are kept under new names with their
    rows, and the views under the old names answer the same totals, by party."""
    wh = Warehouse(ClickHouseSettings(dsn=f"chdb://{tmp_path / 'ch'}"))
    before = tmp_path / "before"
    before.mkdir()
    for path in migration_files():
        if path.name < "0019":
            shutil.copy(path, before / path.name)
    migrate(wh, before)
    lines = [Declaration.model_validate(x) for x in synthetic_lines(150, seed=11)]
    rows = [declaration_row(x) for x in Enricher(load_rules()).lines(lines).lines]
    wh.insert_rows("declarations", rows, DECLARATION_COLUMNS, "u-0")
    totals = "SELECT sum(lines), round(sum(value_usd), 2), round(sum(net_weight_kg), 2) FROM "
    old_totals = wh.query(totals + "daily_lines").rows
    old_by_day = wh.query(
        "SELECT day, hs6, destination_country, sum(lines) FROM daily_lines "
        "GROUP BY ALL ORDER BY ALL"
    ).rows
    old_importers = wh.query(
        "SELECT importer_name, importer_country, min(first_seen), max(last_seen), sum(lines) "
        "FROM importer_first_seen GROUP BY ALL ORDER BY ALL"
    ).rows
    assert migrate(wh) == [
        "0019_party_keyed_daily_lines",
        "0020_party_keyed_daily_lines_grant",
        "0021_merge_selector_base",
    ]
    assert wh.query(totals + "daily_lines_by_name").rows == old_totals
    assert wh.query(totals + "daily_lines").rows == old_totals
    assert (
        wh.query(
            "SELECT day, hs6, destination_country, sum(lines) FROM daily_lines "
            "GROUP BY ALL ORDER BY ALL"
        ).rows
        == old_by_day
    )
    assert (
        wh.query(
            "SELECT importer_name, importer_country, min(first_seen), max(last_seen), "
            "sum(lines) FROM importer_first_seen_by_name GROUP BY ALL ORDER BY ALL"
        ).rows
        == old_importers
    )
    (parties,) = wh.query(
        "SELECT count(), sum(lines), min(first_seen) FROM importer_first_seen"
    ).rows
    assert parties[0] <= len(old_importers)  # spellings of one party together
    assert parties[1:] == [sum(r[4] for r in old_importers), min(r[2] for r in old_importers)]
    # new lines reach the views, not the kept tables
    wh.insert_rows("declarations", rows[:10], DECLARATION_COLUMNS, "u-1")
    assert one(wh, "SELECT sum(lines) FROM daily_lines") == 160
    assert one(wh, "SELECT sum(lines) FROM daily_lines_by_name") == 150


def test_every_named_query_answers_with_its_columns(warehouse: Warehouse) -> None:
    for name in named_queries():
        result = run_named_query(warehouse, name)
        assert result.columns, name


def test_ttls_follow_the_settings(warehouse: Warehouse, tmp_path: Path) -> None:
    def ttl_of(table: str) -> str:
        return str(
            one(warehouse, f"SELECT create_table_query FROM system.tables WHERE name = '{table}'")
        )

    assert "TTL declared_at + toIntervalDay(3650)" in ttl_of("declarations")
    assert "TTL toDate(failed_at) + toIntervalDay(90)" in ttl_of("dead_letters")
    assert " TTL " not in ttl_of("alerts")
    warehouse.settings = ClickHouseSettings(
        dsn=warehouse.settings.dsn, declarations_ttl_days=None, alerts_ttl_days=30
    )
    assert apply_ttls(warehouse) == ["alerts=30d", "dead_letters=90d", "sink_batches=30d"]
    assert " TTL " not in ttl_of("declarations")
    assert "toIntervalDay(30)" in ttl_of("alerts")


def test_the_bi_role_migration_is_recorded_as_skipped_on_the_embedded_engine(
    warehouse: Warehouse,
) -> None:
    notes = dict(warehouse.query("SELECT version, note FROM schema_migrations FINAL").rows)
    assert notes["0009_bi_reader_role"].startswith("skipped: the embedded engine")
    assert notes["0014_bi_rule_outcomes_grant"].startswith("skipped: the embedded engine")
    assert notes["0008_bi_views"] == ""
    views = warehouse.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine = 'View' ORDER BY name"
    ).rows
    granted = {
        line.split(" ON ")[1].split(" ")[0].rstrip(";")
        for grants in (
            "0009_bi_reader_role.sql",
            "0014_bi_rule_outcomes_grant.sql",
            "0017_parties_grant.sql",
            "0020_party_keyed_daily_lines_grant.sql",
        )
        for line in (Path(__file__).parents[2] / "schemas/clickhouse" / grants)
        .read_text()
        .splitlines()
        if line.startswith("GRANT SELECT ON ")
    }
    assert granted == {str(v[0]) for v in views}  # every view granted, nothing else


def grafana_sql(sql: str) -> str:
    """Expand the Grafana macros and variables the dashboard uses into plain ClickHouse SQL."""
    return (
        sql.replace("$__fromTime", "toDateTime('2020-01-01 00:00:00')")
        .replace("$__toTime", "now()")
        .replace("${destination:singlequote}", "'RU','UA'")
    )


def test_the_grafana_dashboard_reads_only_bi_views_and_every_panel_runs(
    warehouse: Warehouse,
) -> None:
    import json
    import re

    path = Path(__file__).parents[2] / "deploy" / "grafana" / "customs-watch-dashboard.json"
    dashboard = json.loads(path.read_text())
    queries = [t["rawSql"] for p in dashboard["panels"] for t in p["targets"]]
    queries += [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    assert {p["title"] for p in dashboard["panels"]} >= {
        "Alerts by rule and day",
        "Top importers of battlefield goods (USD)",
        "Category flows (USD per day)",
        "Outcomes per rule (console triage)",
    }
    for sql in queries:
        tables = set(re.findall(r"customs_watch\.(\w+)", sql))
        assert tables and all(t.startswith("bi_") for t in tables), sql
        result = warehouse.query(grafana_sql(sql))
        assert result.columns, sql


def test_the_tables_every_sink_batch_writes_merge_more_parts_at_once(
    warehouse: Warehouse,
) -> None:
    """Issue 16 (0021): declarations, the tables its materialised views feed, the alerts and
    the sink's plans take merge_selector_base 20, fewer merge levels in a backfill. A view
    added later without it fails here, so the choice is made for it too."""
    rows = warehouse.query(
        "SELECT name, engine, create_table_query FROM system.tables "
        "WHERE database = currentDatabase()"
    ).rows
    tuned = {name for name, _, ddl in rows if "merge_selector_base = 20" in str(ddl)}
    fed = {
        str(ddl).split(" TO ", 1)[1].split()[0].split(".")[-1]
        for _, engine, ddl in rows
        if engine == "MaterializedView"
    }
    assert fed == {
        "daily_categories",
        "monthly_category_destination",
        "daily_party_lines",
        "party_names",
    }
    assert tuned == fed | {"declarations", "alerts", "sink_batches"}
