"""Every statement `db migrate` runs, in both modes, parses in the real ClickHouse engine
(the embedded one: ``formatQuery`` parses without running; a cluster needs Keeper)."""

from __future__ import annotations

from pathlib import Path

import clickhouse_connect
import pytest

from stream.warehouse.cluster import Cluster, migrations_table_ddl
from stream.warehouse.migrations import planned

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("cluster", [None, Cluster("customs_watch", "customs_watch")])
def test_every_generated_statement_parses(cluster: Cluster | None, tmp_path: Path) -> None:
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path}")
    statements = migrations_table_ddl(cluster) + [s for m in planned(cluster) for s in m.statements]
    assert len(statements) > 40
    formatted = []
    try:
        for statement in statements:
            result = client.query("SELECT formatQuery({q:String})", parameters={"q": statement})
            formatted.append(str(result.result_rows[0][0]))
    finally:
        client.close()
    if cluster is not None:
        assert sum("ON CLUSTER customs_watch" in f for f in formatted) > 40
        assert any("ENGINE = ReplicatedMergeTree(" in f for f in formatted)
        assert any("ENGINE = Distributed(" in f for f in formatted)
