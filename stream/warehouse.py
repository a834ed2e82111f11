"""The one owner of the ClickHouse client: migrations, batch inserts, named queries.

Every access goes through ``clickhouse_connect.get_client(dsn=...)``, whether the DSN is the
embedded engine (``chdb://<dir>``) or a server (``http://user:pass@host:8123/db``).

Exactly-once writes: each insert carries ``insert_deduplication_token`` derived from the
raw Kafka message the rows came from (``topic-partition-offset``). A replay of that message
produces the same rows with the same token, and ClickHouse drops the second insert (tables
keep a dedup window via ``non_replicated_deduplication_window``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import clickhouse_connect
import orjson
from clickhouse_connect.driver.exceptions import (
    DatabaseError,
    OperationalError,
)

from schemas.alert import Alert
from schemas.enriched import EnrichedDeclaration
from schemas.settings import ClickHouseSettings
from stream.errors import WarehouseRejected, WarehouseUnavailable

log = logging.getLogger(__name__)

DDL_DIR = Path(__file__).resolve().parent.parent / "schemas" / "clickhouse"
QUERIES_DIR = DDL_DIR / "queries"
EPOCH = date(1970, 1, 1)

DECLARATION_COLUMNS = (
    "declaration_id", "line_no", "declared_at", "flow", "reporter", "hs_code", "hs_digits",
    "hs2", "hs4", "hs6", "hs6_known", "description", "quantity", "unit", "unit_code", "value",
    "currency", "value_usd", "net_weight_kg", "origin_country", "dispatch_country",
    "destination_country", "exporter_name", "exporter_country", "exporter_id",
    "exporter_address", "importer_name", "importer_country", "importer_id", "importer_address",
    "notify_name", "notify_country", "notify_id",
    "declarant_name", "declarant_country", "declarant_id", "manufacturer", "brand", "source",
    "source_record_id", "extra", "flags", "categories", "chpl_tier", "evidence", "confidence",
    "misdeclaration_suspected", "misdeclaration_reason", "screening_hits",
    "screened_entity_ids", "screening_max_score", "alert_rules", "rules_version", "raw_topic",
    "raw_partition", "raw_offset", "enriched_at",
)  # fmt: skip
ALERT_COLUMNS = (
    "alert_id",
    "rule",
    "severity",
    "score",
    "reason",
    "lines",
    "line_count",
    "party_key",
    "parties",
    "categories",
    "subject",
    "chpl_tier",
    "destination_country",
    "source",
    "rules_version",
    "first_seen",
    "last_seen",
    "created_at",
)
# ClickHouse error codes that say "try again later" rather than "these rows are wrong".
TRANSIENT_CODES = frozenset(
    {
        159,  # TIMEOUT_EXCEEDED
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        242,  # TABLE_IS_READ_ONLY
        252,  # TOO_MANY_PARTS
        319,  # UNKNOWN_STATUS_OF_INSERT
        425,  # SYSTEM_ERROR
    }
)


@dataclass(frozen=True, slots=True)
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def declaration_row(line: EnrichedDeclaration) -> list[Any]:
    return [
        line.declaration_id, line.line_no, line.declared_at, line.flow, line.reporter,
        line.hs_code, line.hs_digits, line.hs2, line.hs4, line.hs6, line.hs6_known,
        line.description, None if line.quantity is None else float(line.quantity), line.unit,
        line.unit_code, line.value, line.currency, line.value_usd,
        None if line.net_weight_kg is None else float(line.net_weight_kg),
        line.origin_country, line.dispatch_country, line.destination_country,
        line.exporter_name, line.exporter_country, line.exporter_id, line.exporter_address,
        line.importer_name, line.importer_country, line.importer_id, line.importer_address,
        line.notify_name, line.notify_country,
        line.notify_id, line.declarant_name, line.declarant_country, line.declarant_id,
        line.manufacturer, line.brand,
        line.source or "", line.source_record_id, _json(line.extra), list(line.flags),
        list(line.categories), line.chpl_tier,
        _json([e.model_dump(mode="json") for e in line.evidence]), line.confidence,
        line.misdeclaration_suspected, line.misdeclaration_reason,
        _json([h.model_dump(mode="json") for h in line.screening_hits]),
        sorted({h.entity_id for h in line.screening_hits}),
        max((h.score for h in line.screening_hits), default=0.0),
        list(line.alert_rules), line.rules_version, line.raw_topic, line.raw_partition,
        line.raw_offset, line.enriched_at,
    ]  # fmt: skip


def alert_row(alert: Alert) -> list[Any]:
    return [
        alert.alert_id,
        alert.rule,
        alert.severity,
        alert.score,
        alert.reason,
        [(k.declaration_id, k.line_no) for k in alert.lines],
        alert.line_count,
        alert.partition_key(),
        _json([p.model_dump(mode="json") for p in alert.parties]),
        list(alert.categories),
        alert.subject,
        alert.chpl_tier,
        alert.destination_country,
        alert.source,
        alert.rules_version,
        alert.first_seen,
        alert.last_seen,
        alert.created_at,
    ]


def migration_files(ddl_dir: Path = DDL_DIR) -> list[Path]:
    """DDL files in the order they apply: ``NNNN_name.sql`` sorted by number."""
    return sorted(p for p in ddl_dir.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def named_queries(queries_dir: Path = QUERIES_DIR) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(queries_dir.glob("*.sql"))}


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


def classify_error(exc: Exception) -> Exception:
    """Map a clickhouse-connect error onto our transient/terminal markers."""
    if isinstance(exc, OperationalError):
        return WarehouseUnavailable(str(exc))
    code = getattr(exc, "code", None)
    if code in TRANSIENT_CODES:
        return WarehouseUnavailable(str(exc))
    return WarehouseRejected(str(exc))


class Warehouse:
    """A ClickHouse client bound to the project's database. Not thread-safe: one user at once."""

    def __init__(self, settings: ClickHouseSettings) -> None:
        self.settings = settings
        path = settings.embedded_path()
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        try:
            self._client = clickhouse_connect.get_client(dsn=settings.dsn.get_secret_value())
            self._client.command(f"CREATE DATABASE IF NOT EXISTS {settings.database}")
        except (DatabaseError, OperationalError) as exc:
            raise classify_error(exc) from exc
        self._client.database = settings.database

    def close(self) -> None:
        self._client.close()

    def migrate(self, ddl_dir: Path = DDL_DIR) -> list[str]:
        """Apply DDL files not applied yet; refuse a file changed after it was applied."""
        self._client.command(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version String, checksum String, "
            "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
            "ENGINE = ReplacingMergeTree ORDER BY version"
        )
        rows = self._client.query("SELECT version, checksum FROM schema_migrations FINAL")
        applied: dict[str, str] = {str(v): str(c) for v, c in rows.result_rows}
        done: list[str] = []
        for path in migration_files(ddl_dir):
            sql = path.read_text(encoding="utf-8")
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            version = path.stem
            if version in applied:
                if applied[version] != checksum:
                    raise WarehouseRejected(
                        f"migration {path.name} changed after it was applied; "
                        "add a new numbered file instead of editing an applied one"
                    )
                continue
            for statement in _statements(sql):
                self._client.command(statement)
            self._client.insert(
                "schema_migrations", [[version, checksum]], column_names=["version", "checksum"]
            )
            log.info("migration applied", extra={"version": version})
            done.append(version)
        return done

    def _insert(
        self, table: str, rows: Sequence[list[Any]], columns: Sequence[str], token: str
    ) -> None:
        if not rows:
            return
        try:
            self._client.insert(
                table,
                rows,
                column_names=list(columns),
                settings={"insert_deduplication_token": token},
            )
        except (DatabaseError, OperationalError) as exc:
            raise classify_error(exc) from exc

    def insert_declarations(self, lines: Sequence[EnrichedDeclaration], token: str) -> None:
        self._insert(
            "declarations", [declaration_row(x) for x in lines], DECLARATION_COLUMNS, token
        )

    def insert_alerts(self, alerts: Sequence[Alert], token: str) -> None:
        self._insert("alerts", [alert_row(a) for a in alerts], ALERT_COLUMNS, token)

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        try:
            result = self._client.query(sql, parameters=parameters or {})
        except (DatabaseError, OperationalError) as exc:
            raise classify_error(exc) from exc
        return QueryResult(list(result.column_names), [list(r) for r in result.result_rows])

    def named_query(self, name: str, since: date | None = None) -> QueryResult:
        """Run a query file; ``{since:Date}`` in it is bound to ``since`` (default: all)."""
        queries = named_queries()
        if name not in queries:
            raise KeyError(f"no query named {name!r}; known: {', '.join(sorted(queries))}")
        sql = queries[name]
        parameters = {"since": since or EPOCH} if "{since:" in sql else None
        return self.query(sql, parameters)
