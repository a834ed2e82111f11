"""The seeded scenario in a real embedded ClickHouse, for the console's tests: the seed
lines through the stream's own stages (offline enricher, demo watchlist), landed with the
sink's row functions."""

from __future__ import annotations

from pathlib import Path

from ingest.seeds import seed_lines
from schemas.declaration import Declaration
from schemas.settings import Settings
from stream.offline import offline_enricher
from stream.warehouse.client import Warehouse
from stream.warehouse.migrations import migrate_database
from stream.warehouse.rows import insert_alerts, insert_declarations

ROOT = Path(__file__).resolve().parents[1]
WATCHLIST = ROOT / "ingest" / "samples" / "watchlist_demo.csv"


def seed_warehouse(directory: Path) -> int:
    """Fill ``directory`` (a chdb data dir) with the seeds' lines and alerts; alert count."""
    settings = Settings(clickhouse={"dsn": f"chdb://{directory}"})
    migrate_database(settings.clickhouse)
    enricher = offline_enricher(settings, watchlists=[WATCHLIST])
    done = enricher.lines([Declaration.model_validate(line) for line in seed_lines()])
    warehouse = Warehouse(settings.clickhouse)
    try:
        insert_declarations(warehouse, done.lines, "console-seed-lines")
        insert_alerts(warehouse, done.alerts, "console-seed-alerts")
    finally:
        warehouse.close()
    return len({a.alert_id for a in done.alerts})
