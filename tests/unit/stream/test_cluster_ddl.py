"""Cluster-mode DDL (stream/warehouse/cluster.py): the golden files per mode, and what the
rewrite must do to every kind of statement the migrations hold."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stream.cli.main import app
from stream.warehouse.cluster import (
    Cluster,
    UnsupportedStatement,
    cluster_statements,
    shard_of,
    sharded_tables,
)
from stream.warehouse.migrations import _statements, migration_files, planned, render_ddl

GOLDEN = Path(__file__).parents[2] / "data" / "ddl"
CLUSTER = Cluster("customs_watch", "customs_watch")
REGENERATE = (
    "regenerate: customs-watch db ddl --mode single > tests/data/ddl/single.sql; "
    "customs-watch db ddl --mode cluster --cluster customs_watch > tests/data/ddl/cluster.sql"
)


@pytest.mark.parametrize(("mode", "cluster"), [("single", None), ("cluster", CLUSTER)])
def test_generated_ddl_matches_its_golden_file(mode: str, cluster: Cluster | None) -> None:
    assert render_ddl(cluster) == (GOLDEN / f"{mode}.sql").read_text(encoding="utf-8"), REGENERATE


def test_the_cli_prints_the_same_ddl() -> None:
    result = CliRunner().invoke(
        app, ["db", "ddl", "--mode", "cluster", "--cluster", "customs_watch"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == render_ddl(CLUSTER)


def test_single_node_statements_are_the_files_own() -> None:
    files = migration_files()
    for migration, path in zip(planned(None), files, strict=True):
        assert migration.statements == _statements(path.read_text(encoding="utf-8"))


def test_cluster_mode_replicates_every_merge_tree_and_distributes_the_sharded_ones() -> None:
    statements = [s for m in planned(CLUSTER) for s in m.statements]
    sql = "\n".join(statements)
    assert "non_replicated_deduplication_window" not in re.sub(r"--.*", "", sql)
    engines = re.findall(r"ENGINE = (\w+)", sql)
    assert engines and all(e.startswith("Replicated") or e == "Distributed" for e in engines)
    for table in ("declarations", "alerts", "dead_letters", "alert_actions", "daily_lines"):
        assert f"CREATE TABLE IF NOT EXISTS {table}_local ON CLUSTER 'customs_watch'" in sql
        assert f"Distributed('customs_watch', customs_watch, {table}_local, rand())" in sql
    # the sink's plans: one replica set over every node, read back wherever written
    assert "'/clickhouse/tables/all/customs_watch/sink_batches'" in sql
    assert "sink_batches_local" not in sql
    # every DDL statement runs on the whole cluster, except the everywhere table's ALTER
    # (replicated through Keeper) and the back-fills (plain INSERTs)
    for statement in statements:
        body = "\n".join(ln for ln in statement.splitlines() if not ln.startswith("--")).strip()
        if body.startswith("INSERT") or body.startswith("ALTER TABLE sink_batches"):
            continue
        assert "ON CLUSTER 'customs_watch'" in body, body[:120]


def test_materialised_views_read_and_write_local_tables() -> None:
    statements = [s for m in planned(CLUSTER) for s in m.statements if "MATERIALIZED VIEW" in s]
    assert len(statements) == 6  # 0007 (4), the party aggregates of 0018 (2)
    for statement in statements:
        assert re.search(r"\bTO \w+_local AS\b", statement)
        assert re.findall(r"\bFROM (\w+)", statement) == ["declarations_local"]


def test_views_read_the_distributed_tables() -> None:
    views = [s for m in planned(CLUSTER) for s in m.statements if "CREATE VIEW" in s]
    # 0008 and 0013 (10), the party views of 0016 (4), daily_lines and importer_first_seen
    # by party (0019)
    assert len(views) == 16
    assert not any("_local" in v for v in views)


def test_a_renamed_sharded_table_keeps_its_local_table_and_gets_a_distributed_one() -> None:
    sharded = sharded_tables(
        [
            "CREATE TABLE IF NOT EXISTS t (k UInt8) ENGINE = MergeTree ORDER BY k",
            "-- kept for history\nRENAME TABLE IF EXISTS t TO t_old",
        ]
    )
    assert sharded == {"t", "t_old"}  # the earlier statements still name t
    out = cluster_statements("RENAME TABLE IF EXISTS t TO t_old", CLUSTER, sharded)
    assert out == [
        "RENAME TABLE IF EXISTS t_local TO t_old_local ON CLUSTER 'customs_watch'",
        "DROP TABLE IF EXISTS t ON CLUSTER 'customs_watch'",
        "CREATE TABLE IF NOT EXISTS t_old ON CLUSTER 'customs_watch' AS t_old_local\n"
        "ENGINE = Distributed('customs_watch', customs_watch, t_old_local, rand())",
    ]
    assert cluster_statements("RENAME TABLE IF EXISTS v TO w", CLUSTER, sharded) == [
        "RENAME TABLE IF EXISTS v TO w ON CLUSTER 'customs_watch'"
    ]
    assert cluster_statements("DROP VIEW IF EXISTS t_mv", CLUSTER, sharded) == [
        "DROP VIEW IF EXISTS t_mv ON CLUSTER 'customs_watch'"
    ]
    with pytest.raises(UnsupportedStatement):  # no IF EXISTS: would not run twice
        cluster_statements("RENAME TABLE t TO t_old", CLUSTER, sharded)


def test_column_changes_reach_both_tables_and_local_only_changes_are_refused_when_mixed() -> None:
    sharded = {"declarations"}
    out = cluster_statements("ALTER TABLE declarations ADD COLUMN x UInt8", CLUSTER, sharded)
    assert [s.split("\n")[0] for s in out] == [
        "ALTER TABLE declarations_local ON CLUSTER 'customs_watch'",
        "ALTER TABLE declarations ON CLUSTER 'customs_watch'",
    ]
    ttl = cluster_statements(
        "ALTER TABLE declarations MODIFY TTL declared_at + INTERVAL 1 DAY", CLUSTER, sharded
    )
    assert len(ttl) == 1 and ttl[0].startswith("ALTER TABLE declarations_local ON CLUSTER")
    with pytest.raises(UnsupportedStatement):
        cluster_statements(
            "ALTER TABLE declarations ADD COLUMN x UInt8, MODIFY ORDER BY (x)", CLUSTER, sharded
        )


def test_a_statement_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(UnsupportedStatement):
        cluster_statements("CREATE DICTIONARY d (k UInt64) PRIMARY KEY k", CLUSTER, set())
    with pytest.raises(UnsupportedStatement):
        cluster_statements("CREATE TABLE IF NOT EXISTS t (k UInt8) ENGINE = Log", CLUSTER, {"t"})


def test_a_partition_always_goes_to_one_shard_and_a_topic_spreads_over_all() -> None:
    for shards in (1, 2, 3, 4):
        picks = [shard_of("customs.enriched", p, shards) for p in range(4 * shards)]
        assert picks == [shard_of("customs.enriched", p, shards) for p in range(4 * shards)]
        assert Counter(picks) == {s: 4 for s in range(shards)}
    with pytest.raises(ValueError):
        shard_of("t", 0, 0)


class _Shard:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    def insert_rows(
        self, table: str, rows: list[list[int]], columns: list[str], token: str
    ) -> None:
        self.calls.append((table, len(rows), token))


def test_the_sink_inserts_each_partition_into_the_local_table_of_its_shard() -> None:
    from schemas.settings import ClickHouseSettings
    from stream.warehouse.client import Warehouse

    settings = ClickHouseSettings(
        dsn="http://ch:8123/db", cluster="c", shard_dsns=["http://s0:8123/db", "http://s1:8123/db"]
    )
    warehouse = Warehouse.__new__(Warehouse)  # no server here: the shards are stand-ins
    warehouse.settings = settings
    shards = [_Shard(), _Shard()]
    warehouse._shards = shards  # type: ignore[assignment]
    for partition in range(4):
        for batch in range(2):
            token = f"t-{partition}-{batch}"
            warehouse.insert_batch(
                "customs.enriched", partition, "declarations", [[1]], ["x"], token
            )
    for partition in range(4):
        shard = shards[shard_of("customs.enriched", partition, 2)]
        assert ("declarations_local", 1, f"t-{partition}-0") in shard.calls
        assert ("declarations_local", 1, f"t-{partition}-1") in shard.calls  # kept together
    assert len(shards[0].calls) == len(shards[1].calls) == 4


def test_on_a_single_node_the_sink_inserts_into_the_table_itself() -> None:
    from schemas.settings import ClickHouseSettings
    from stream.warehouse.client import Warehouse

    warehouse = Warehouse.__new__(Warehouse)
    warehouse.settings = ClickHouseSettings(dsn="http://ch:8123/db")
    warehouse._shards = None
    seen = _Shard()
    warehouse.insert_rows = seen.insert_rows  # type: ignore[method-assign]
    warehouse.insert_batch("customs.enriched", 3, "declarations", [[1]], ["x"], "tok")
    assert seen.calls == [("declarations", 1, "tok")]
