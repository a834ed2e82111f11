"""The ClickHouse client: one connection to the project's database, and its error mapping.

Every access goes through ``clickhouse_connect.get_client(dsn=...)``, whether the DSN is the
embedded engine (``chdb://<dir>``) or a server (``http://user:pass@host:8123/db``).

Exactly-once writes: each insert carries an ``insert_deduplication_token`` (the sink's batch
token, see stream/sink/plans.py). A replay of a batch not yet marked landed produces the same
token and ClickHouse drops the second insert; tables keep a dedup window via
``non_replicated_deduplication_window`` (replicated tables keep one by default). Errors are
mapped by what they mean for the rows: see error_codes.py.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import clickhouse_connect
from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError

from schemas.settings import ClickHouseSettings
from stream.errors import WarehouseRejected, WarehouseUnavailable
from stream.warehouse.cluster import LOCAL_SUFFIX, shard_of
from stream.warehouse.error_codes import CLIENT_DATA_ERRORS, is_data_code

if TYPE_CHECKING:
    from stream.warehouse.rows import JsonColumns

log = logging.getLogger(__name__)

# deduplicate_blocks_in_dependent_materialized_views: keeps materialised views from receiving a
# block twice when a retried insert is deduplicated. max_partitions_per_insert_block = 0: a
# batch may span any number of years (declarations is PARTITION BY toYear); the default
# limit of 100 refuses it with TOO_MANY_PARTS, which would be retried forever. A batch holds
# at most CUSTOMS_WATCH_SINK_MAX_ROWS rows, which bounds its parts anyway.
INSERT_SETTINGS = {
    "deduplicate_blocks_in_dependent_materialized_views": 1,
    "max_partitions_per_insert_block": 0,
}
# For inserts of JSON (Warehouse.insert_json): the fields a table leaves out are skipped;
# objects and arrays read into String fields keep their JSON text; floats parse exactly
# (the default parser may be off by an ulp on long decimals); ISO 8601 times with T and Z.
JSON_INSERT_SETTINGS = {
    "input_format_skip_unknown_fields": 1,
    "input_format_json_read_objects_as_strings": 1,
    "input_format_json_read_arrays_as_strings": 1,
    "precise_float_parsing": 1,
    "date_time_input_format": "best_effort",
}


@dataclass(frozen=True, slots=True)
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def classify_error(exc: Exception) -> Exception:
    """Map a clickhouse-connect error onto what it means for the rows (see error_codes):
    :class:`WarehouseRejected` only when the values are wrong, else
    :class:`WarehouseUnavailable` (pause and retry the same rows)."""
    if isinstance(exc, (DataError, *CLIENT_DATA_ERRORS)):
        return WarehouseRejected(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, OperationalError):
        return WarehouseUnavailable(str(exc))
    code = getattr(exc, "code", None)
    if is_data_code(code):
        return WarehouseRejected(str(exc))
    return WarehouseUnavailable(str(exc))


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
        self._shards: list[Warehouse] | None = None  # cluster mode: one client per shard

    def close(self) -> None:
        for shard in self._shards or []:
            if shard is not self:
                shard.close()
        self._client.close()

    def command(self, sql: str) -> None:
        """Run one statement that returns no rows (DDL, ALTER)."""
        try:
            self._client.command(sql)
        except (DatabaseError, OperationalError) as exc:
            raise classify_error(exc) from exc

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        """Insert rows without a deduplication token (bookkeeping rows, not batches)."""
        try:
            self._client.insert(table, rows, column_names=list(columns))
        except (DatabaseError, OperationalError) as exc:
            raise classify_error(exc) from exc

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
        except (DatabaseError, OperationalError, OverflowError, ValueError, TypeError) as exc:
            # the last three: clickhouse-connect serialising a value its column cannot hold
            raise classify_error(exc) from exc

    def insert_batch(
        self,
        topic: str,
        partition: int,
        table: str,
        rows: Sequence[Sequence[Any]],
        columns: Sequence[str],
        token: str,
    ) -> None:
        """The sink's insert of one batch of ``topic``/``partition``. Single node: the table.
        Cluster mode: the local table of the shard :func:`shard_of` picks for the partition
        (through ``shard_dsns``; without them, the node of the main DSN), so every batch of
        a partition, and its replays, meet the same shard's deduplication tokens."""
        shard, target = self._target(topic, partition, table)
        shard.insert_rows(target, rows, columns, token)

    def _target(self, topic: str, partition: int, table: str) -> tuple[Warehouse, str]:
        """Where the batches of ``topic``/``partition`` go: this node's ``table``, or in
        cluster mode the local table of the partition's shard."""
        if self.settings.cluster is None:
            return self, table
        if self._shards is None:
            dsns = self.settings.shard_dsns
            self._shards = [
                Warehouse(self.settings.model_copy(update={"dsn": dsn, "shard_dsns": []}))
                for dsn in dsns
            ] or [self]
        return self._shards[shard_of(topic, partition, len(self._shards))], table + LOCAL_SUFFIX

    def insert_json(self, table: str, spec: JsonColumns, body: bytes, token: str) -> None:
        """Insert one batch given as ``JSONEachRow`` (objects one after the other, or one
        JSON array of them): ClickHouse parses it and computes the columns (``spec``), which
        spares building and serialising the rows in Python. A server reads the body through
        ``input()`` (the request's data); the embedded engine has no request body (the data
        would be ignored), so it reads the same bytes from a temporary file through
        ``file()``, as clickhouse-connect does for its own inserts there. Same token rule
        as :meth:`insert_rows`."""
        settings = {**INSERT_SETTINGS, **JSON_INSERT_SETTINGS, "insert_deduplication_token": token}
        try:
            if self.settings.embedded_path() is None:
                self._client.command(json_insert_sql(table, spec), data=body, settings=settings)
                return
            with tempfile.NamedTemporaryFile(prefix="cw-insert-", suffix=".json") as file:
                file.write(body)
                file.flush()
                self._client.command(json_insert_sql(table, spec, file.name), settings=settings)
        except (DatabaseError, OperationalError) as exc:
            raise classify_error(exc) from exc
        except OSError as exc:  # the temporary file (a full disk): not the rows' fault
            raise WarehouseUnavailable(f"temporary file for the insert: {exc}") from exc

    def insert_json_batch(
        self, topic: str, partition: int, table: str, spec: JsonColumns, body: bytes, token: str
    ) -> None:
        """:meth:`insert_batch` of a batch given as JSON (:meth:`insert_json`)."""
        shard, target = self._target(topic, partition, table)
        shard.insert_json(target, spec, body, token)

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


def json_insert_sql(table: str, spec: JsonColumns, path: str | None = None) -> str:
    """The statement of :meth:`Warehouse.insert_json`: the JSON comes in the request's
    data (``input()``), or from the file at ``path`` (``file()``, the embedded engine)."""
    structure = _quoted(spec.structure)
    head = f"INSERT INTO {table} ({', '.join(spec.columns)}) SELECT {spec.select} FROM "
    if path is None:
        return f"{head}input({structure}) FORMAT JSONEachRow"
    return f"{head}file({_quoted(path)}, JSONEachRow, {structure})"


def _quoted(text: str) -> str:
    """``text`` as a ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
