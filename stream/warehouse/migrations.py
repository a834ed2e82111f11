"""Apply the DDL in ``schemas/clickhouse/`` once each, in order, and the tables' TTLs.

A migration is a numbered SQL file; its checksum is recorded in ``schema_migrations`` so a
file edited after it was applied is refused rather than silently skipped. With
``CUSTOMS_WATCH_CLICKHOUSE_CLUSTER`` set, the same files are rewritten for a replicated,
sharded cluster (cluster.py); the single-node statements are the files' own.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from schemas import SCHEMAS_DIR
from schemas.settings import ClickHouseSettings
from stream.errors import WarehouseRejected
from stream.warehouse.client import Warehouse
from stream.warehouse.cluster import (
    Cluster,
    cluster_statements,
    migrations_table_ddl,
    sharded_tables,
    ttl_target,
)

log = logging.getLogger(__name__)

DDL_DIR = SCHEMAS_DIR / "clickhouse"
# A migration marked so needs users and roles; the embedded engine has none (see migrate).
ACCESS_MARKER = "-- requires: access management"
MIGRATION_COLUMNS = ("version", "checksum", "note")


def migration_files(ddl_dir: Path = DDL_DIR) -> list[Path]:
    """DDL files in the order they apply: ``NNNN_name.sql`` by number. Two files with one
    number (two branches merged) are refused: their order would be an accident."""
    files = sorted(ddl_dir.glob("[0-9][0-9][0-9][0-9]_*.sql"), key=lambda p: (int(p.name[:4]), p))
    numbers = [p.name[:4] for p in files]
    clashes = sorted({n for n in numbers if numbers.count(n) > 1})
    if clashes:
        raise WarehouseRejected(f"two migrations share a number: {', '.join(clashes)}")
    return files


def _statements(sql: str) -> list[str]:
    """Split a DDL file on ``;`` at line ends, dropping comment-only pieces."""
    pieces, current = [], []
    for line in sql.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            pieces.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    pieces.append("\n".join(current))
    return [
        p
        for p in pieces
        if any(ln.strip() and not ln.strip().startswith("--") for ln in p.splitlines())
    ]


def cluster_of(settings: ClickHouseSettings) -> Cluster | None:
    """The cluster DDL points at, or None on a single node (the default)."""
    if settings.cluster is None:
        return None
    if settings.embedded:
        raise WarehouseRejected(
            "CUSTOMS_WATCH_CLICKHOUSE_CLUSTER needs a ClickHouse server: the embedded engine "
            "has no cluster"
        )
    return Cluster(settings.cluster, settings.database)


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered file and the statements it runs in the chosen mode."""

    version: str
    checksum: str
    statements: list[str]
    needs_access: bool


def planned(cluster: Cluster | None, ddl_dir: Path = DDL_DIR) -> list[Migration]:
    """Every migration with its statements: as written (single node) or rewritten for the
    cluster (see cluster.py). The checksum is the file's either way."""
    files = [(p, p.read_text(encoding="utf-8")) for p in migration_files(ddl_dir)]
    per_file = [_statements(sql) for _, sql in files]
    sharded = sharded_tables([s for statements in per_file for s in statements])
    plan = []
    for (path, sql), statements in zip(files, per_file, strict=True):
        if cluster is not None:
            statements = [
                out for st in statements for out in cluster_statements(st, cluster, sharded)
            ]
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        plan.append(Migration(path.stem, checksum, statements, ACCESS_MARKER in sql))
    return plan


def render_ddl(cluster: Cluster | None, ddl_dir: Path = DDL_DIR) -> str:
    """Every statement ``db migrate`` would run, as one SQL script (``db ddl``); the BI
    password stays a placeholder."""
    out = ["-- schema_migrations"]
    out += [f"{statement};" for statement in migrations_table_ddl(cluster)]
    for migration in planned(cluster, ddl_dir):
        out.append(f"\n-- {migration.version}")
        out += [f"{statement};" for statement in migration.statements]
    return "\n".join(out) + "\n"


def migrate(warehouse: Warehouse, ddl_dir: Path = DDL_DIR) -> list[str]:
    """Apply DDL files not applied yet; refuse a file changed after it was applied."""
    cluster = cluster_of(warehouse.settings)
    for statement in migrations_table_ddl(cluster):
        warehouse.command(statement)
    rows = warehouse.query("SELECT version, checksum FROM schema_migrations FINAL").rows
    applied: dict[str, str] = {str(v): str(c) for v, c in rows}
    done: list[str] = []
    for migration in planned(cluster, ddl_dir):
        version, checksum, statements = migration.version, migration.checksum, migration.statements
        if version in applied:
            if applied[version] != checksum:
                raise WarehouseRejected(
                    f"migration {version}.sql changed after it was applied; "
                    "add a new numbered file instead of editing an applied one"
                )
            continue
        note = ""
        if migration.needs_access and warehouse.settings.embedded:
            for statement in statements:  # at least check they parse
                warehouse.query("SELECT formatQuery({q:String})", {"q": statement})
            note = "skipped: the embedded engine has no access management"
        else:
            for statement in statements:
                warehouse.command(_placeholders(warehouse.settings, statement))
        warehouse.insert("schema_migrations", [[version, checksum, note]], MIGRATION_COLUMNS)
        log.info("migration applied", extra={"version": version, "note": note or "-"})
        done.append(version)
    return done


def _placeholders(settings: ClickHouseSettings, statement: str) -> str:
    if "{bi_password_sha256}" not in statement:
        return statement
    secret = settings.bi_password
    password = secret.get_secret_value() if secret else secrets.token_urlsafe(24)
    if secret is None:
        log.warning(
            "BI reader created with a random password; set one with ALTER USER "
            "customs_watch_bi_reader or CUSTOMS_WATCH_CLICKHOUSE_BI_PASSWORD"
        )
    digest = hashlib.sha256(password.encode()).hexdigest()
    return statement.replace("{bi_password_sha256}", digest)


def apply_ttls(warehouse: Warehouse) -> list[str]:
    """Set or remove each table's TTL from the settings; returns what it set."""
    spans = {
        "declarations": ("declared_at", warehouse.settings.declarations_ttl_days),
        "alerts": ("toDate(last_seen)", warehouse.settings.alerts_ttl_days),
        "dead_letters": ("toDate(failed_at)", warehouse.settings.dead_letters_ttl_days),
        "sink_batches": ("toDate(planned_at)", warehouse.settings.sink_batches_ttl_days),
    }
    cluster = cluster_of(warehouse.settings)
    sharded = sharded_tables([s for m in planned(None) for s in m.statements])
    done = []
    for table, (column, days) in spans.items():
        target, on = ttl_target(table, cluster, sharded)
        current = warehouse.query(
            "SELECT create_table_query FROM system.tables "
            "WHERE database = currentDatabase() AND name = {t:String}",
            {"t": target},
        ).rows
        has_ttl = bool(current) and " TTL " in str(current[0][0])
        if days is None:
            if has_ttl:
                warehouse.command(f"ALTER TABLE {target}{on} REMOVE TTL")
            continue
        warehouse.command(
            f"ALTER TABLE {target}{on} MODIFY TTL {column} + INTERVAL {int(days)} DAY"
        )
        done.append(f"{table}={days}d")
    return done


def migrate_database(settings: ClickHouseSettings) -> tuple[list[str], list[str]]:
    """Open ClickHouse, apply pending migrations and the TTLs, close: ``db migrate``."""
    warehouse = Warehouse(settings)
    try:
        return migrate(warehouse), apply_ttls(warehouse)
    finally:
        warehouse.close()
