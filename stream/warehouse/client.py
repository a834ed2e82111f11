"""The one owner of the ClickHouse client: migrations, batch inserts, plans, named queries.

Every access goes through ``clickhouse_connect.get_client(dsn=...)``, whether the DSN is the
embedded engine (``chdb://<dir>``) or a server (``http://user:pass@host:8123/db``).

Exactly-once writes: each insert carries an ``insert_deduplication_token`` (the sink's batch
token, ``topic-partition-first-last``). A replay of that batch produces the same token and
ClickHouse drops the second insert; tables keep a dedup window via
``non_replicated_deduplication_window`` (replicated tables keep one by default).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
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

from schemas import SCHEMAS_DIR
from schemas.alert import Alert
from schemas.dead_letter import DeadLetter
from schemas.enriched import EnrichedDeclaration
from schemas.settings import ClickHouseSettings
from stream.errors import WarehouseRejected, WarehouseUnavailable
from stream.sink.plans import Plan

log = logging.getLogger(__name__)

DDL_DIR = SCHEMAS_DIR / "clickhouse"
QUERIES_DIR = DDL_DIR / "queries"
# A migration marked so needs users and roles; the embedded engine has none (see migrate).
ACCESS_MARKER = "-- requires: access management"
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
DEAD_LETTER_COLUMNS = (
    "letter_id", "source", "origin", "position", "stage", "reason", "payload", "topic",
    "partition", "offset", "failed_at",
)  # fmt: skip
PLAN_COLUMNS = (
    "topic", "partition", "first_offset", "last_offset", "token", "table", "identities",
    "rows", "dropped",
)  # fmt: skip
# Keeps materialised views from receiving a block twice when a retried insert is deduplicated.
INSERT_SETTINGS = {"deduplicate_blocks_in_dependent_materialized_views": 1}
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


def dead_letter_row(letter: DeadLetter) -> list[Any]:
    return [
        letter.identity(), letter.source, letter.origin, letter.position,
        letter.stage, letter.reason, letter.payload, letter.topic, letter.partition,
        letter.offset, letter.failed_at,
    ]  # fmt: skip


def migration_files(ddl_dir: Path = DDL_DIR) -> list[Path]:
    """DDL files in the order they apply: ``NNNN_name.sql`` by number. Two files with one
    number (two branches merged) are refused: their order would be an accident."""
    files = sorted(ddl_dir.glob("[0-9][0-9][0-9][0-9]_*.sql"), key=lambda p: (int(p.name[:4]), p))
    numbers = [p.name[:4] for p in files]
    clashes = sorted({n for n in numbers if numbers.count(n) > 1})
    if clashes:
        raise WarehouseRejected(f"two migrations share a number: {', '.join(clashes)}")
    return files


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
        self._client.command(
            "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS note String DEFAULT ''"
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
            statements = _statements(sql)
            note = ""
            if ACCESS_MARKER in sql and self.settings.embedded:
                for statement in statements:  # at least check they parse
                    self._client.query(
                        "SELECT formatQuery({q:String})", parameters={"q": statement}
                    )
                note = "skipped: the embedded engine has no access management"
            else:
                for statement in statements:
                    self._client.command(self._placeholders(statement))
            self._client.insert(
                "schema_migrations",
                [[version, checksum, note]],
                column_names=["version", "checksum", "note"],
            )
            log.info("migration applied", extra={"version": version, "note": note or "-"})
            done.append(version)
        return done

    def _placeholders(self, statement: str) -> str:
        if "{bi_password_sha256}" not in statement:
            return statement
        secret = self.settings.bi_password
        password = secret.get_secret_value() if secret else secrets.token_urlsafe(24)
        if secret is None:
            log.warning(
                "BI reader created with a random password; set one with ALTER USER "
                "customs_watch_bi_reader or CUSTOMS_WATCH_CLICKHOUSE_BI_PASSWORD"
            )
        digest = hashlib.sha256(password.encode()).hexdigest()
        return statement.replace("{bi_password_sha256}", digest)

    def insert_rows(
        self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str], token: str
    ) -> None:
        """Insert one batch; a second insert with the same token is dropped by ClickHouse."""
        if not rows:
            return
        try:
            self._client.insert(
                table,
                rows,
                column_names=list(columns),
                settings={**INSERT_SETTINGS, "insert_deduplication_token": token},
            )
        except (DatabaseError, OperationalError) as exc:
            raise classify_error(exc) from exc

    def record_plan(self, plan: Plan, table: str) -> None:
        row = [
            plan.topic, plan.partition, plan.first_offset, plan.last_offset, plan.token,
            table, list(plan.identities), plan.rows, plan.dropped,
        ]  # fmt: skip
        self.insert_rows("sink_batches", [row], PLAN_COLUMNS, f"plan:{plan.token}")

    def plans_from(self, topic: str, partition: int, offset: int, limit: int) -> list[Plan]:
        """Plans of ``topic-partition`` reaching ``offset`` or later, oldest first."""
        result = self.query(
            "SELECT first_offset, last_offset, identities, rows, dropped FROM sink_batches "
            "FINAL WHERE topic = {t:String} AND partition = {p:Int32} "
            "AND last_offset >= {o:Int64} ORDER BY first_offset LIMIT {n:UInt32}",
            {"t": topic, "p": partition, "o": offset, "n": limit},
        )
        return [
            Plan(topic, partition, int(f), int(la), tuple(ids), int(r), int(d))
            for f, la, ids, r, d in result.rows
        ]

    def recent_identities(self, topic: str, partition: int, limit: int) -> list[str]:
        """Upstream identities of the partition's most recent batches, oldest first."""
        result = self.query(
            "SELECT identity FROM (SELECT first_offset, arrayJoin(identities) AS identity "
            "FROM sink_batches FINAL WHERE topic = {t:String} AND partition = {p:Int32} "
            "ORDER BY first_offset DESC LIMIT {n:UInt32}) ORDER BY first_offset",
            {"t": topic, "p": partition, "n": limit},
        )
        return [str(row[0]) for row in result.rows]

    def apply_ttls(self) -> list[str]:
        """Set or remove each table's TTL from the settings; returns what it set."""
        spans = {
            "declarations": ("declared_at", self.settings.declarations_ttl_days),
            "alerts": ("toDate(last_seen)", self.settings.alerts_ttl_days),
            "dead_letters": ("toDate(failed_at)", self.settings.dead_letters_ttl_days),
            "sink_batches": ("toDate(planned_at)", self.settings.sink_batches_ttl_days),
        }
        done = []
        for table, (column, days) in spans.items():
            current = self.query(
                "SELECT create_table_query FROM system.tables "
                "WHERE database = currentDatabase() AND name = {t:String}",
                {"t": table},
            ).rows
            has_ttl = bool(current) and " TTL " in str(current[0][0])
            if days is None:
                if has_ttl:
                    self._client.command(f"ALTER TABLE {table} REMOVE TTL")
                continue
            self._client.command(
                f"ALTER TABLE {table} MODIFY TTL {column} + INTERVAL {int(days)} DAY"
            )
            done.append(f"{table}={days}d")
        return done

    def insert_declarations(self, lines: Sequence[EnrichedDeclaration], token: str) -> None:
        self.insert_rows(
            "declarations", [declaration_row(x) for x in lines], DECLARATION_COLUMNS, token
        )

    def insert_alerts(self, alerts: Sequence[Alert], token: str) -> None:
        self.insert_rows("alerts", [alert_row(a) for a in alerts], ALERT_COLUMNS, token)

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        try:
            result = self._client.query(sql, parameters=parameters or {})
            columns = list(result.column_names)
            if not columns:  # the embedded engine names no columns when no row came back
                described = self._client.query(
                    f"DESCRIBE ({sql.strip().rstrip(';')})", parameters=parameters or {}
                )
                columns = [str(row[0]) for row in described.result_rows]
        except (DatabaseError, OperationalError) as exc:
            raise classify_error(exc) from exc
        return QueryResult(columns, [list(r) for r in result.result_rows])

    def named_query(self, name: str, since: date | None = None) -> QueryResult:
        """Run a query file; ``{since:Date}`` in it is bound to ``since`` (default: all)."""
        queries = named_queries()
        if name not in queries:
            raise KeyError(f"no query named {name!r}; known: {', '.join(sorted(queries))}")
        sql = queries[name]
        parameters = {"since": since or EPOCH} if "{since:" in sql else None
        return self.query(sql, parameters)
