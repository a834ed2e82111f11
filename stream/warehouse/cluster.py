"""Cluster mode: the single-node migrations rewritten for a replicated, sharded ClickHouse,
and the shard a topic partition's batches go to.

The numbered files in ``schemas/clickhouse/`` stay the one source of the schema; with
``CUSTOMS_WATCH_CLICKHOUSE_CLUSTER`` set, each statement is rewritten here:

- a table the sink or a materialised view writes becomes ``<name>_local`` (a
  ``Replicated*MergeTree`` created ``ON CLUSTER``, one replica set per shard) with a
  ``Distributed`` table ``<name>`` over it, so every reader (named queries, ``bi_`` views,
  the console) keeps reading ``<name>``;
- the sink's bookkeeping (``sink_batches``) and ``schema_migrations`` are *everywhere*
  tables: one replica set spanning every node, no Distributed table, so a plan written
  through any node is read back through any other;
- ``non_replicated_deduplication_window`` becomes ``replicated_deduplication_window`` (same
  size): the insert tokens are kept in Keeper per shard, so a batch replayed on any replica
  of its shard is dropped;
- materialised views read and write the local tables (they fire on each shard's inserts);
  views, ``ALTER``s, ``DROP VIEW``s, roles, users and grants gain ``ON CLUSTER``;
- renaming a sharded table renames its local table and puts a new Distributed table over
  it under the new name (the old Distributed table names the old local table, so it goes).

A statement of a kind not known here is refused, so a new migration that needs thought in
cluster mode fails the DDL tests instead of being applied wrongly.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

LOCAL_SUFFIX = "_local"
# One replica set over every node: read back wherever they were written.
EVERYWHERE_TABLES = frozenset({"sink_batches", "schema_migrations"})

_CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)\s*\(", re.S)
_ALTER = re.compile(r"ALTER TABLE (\w+)\s", re.S)
_MATVIEW = re.compile(r"CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)(\s+)TO (\w+)(\s+AS\s)", re.S)
_VIEW = re.compile(r"CREATE VIEW IF NOT EXISTS (\w+)(\s)", re.S)
_REPLACE_VIEW = re.compile(r"CREATE OR REPLACE VIEW (\w+)(\s)", re.S)
_DROP_VIEW = re.compile(r"DROP VIEW IF EXISTS (\w+)$", re.S)
_RENAME = re.compile(r"RENAME TABLE IF EXISTS (\w+) TO (\w+)$", re.S)
_INSERT = re.compile(r"INSERT INTO (\w+)(\s+)(?=SELECT\s)", re.S)
_ROLE = re.compile(r"CREATE ROLE IF NOT EXISTS (\w+)$", re.S)
_USER = re.compile(r"CREATE USER IF NOT EXISTS (\w+)(\s)", re.S)
_GRANT = re.compile(r"GRANT\s", re.S)
_FROM = re.compile(r"\b(FROM|JOIN)(\s+)(\w+)\b")
# What a Distributed table cannot take: the ALTER goes to the local tables only, and must
# then say so in a statement of its own (not mixed with column changes).
_LOCAL_ONLY_ALTER = re.compile(
    r"\b(MODIFY (ORDER BY|TTL|SETTING|QUERY)|REMOVE TTL|(ADD|DROP|MATERIALIZE|CLEAR) "
    r"(INDEX|PROJECTION|CONSTRAINT))\b"
)


class UnsupportedStatement(ValueError):
    """A migration statement cluster mode has no rewrite for."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """Where cluster-mode DDL points: the cluster's name and the database."""

    name: str
    database: str

    @property
    def on(self) -> str:
        return f"ON CLUSTER '{self.name}'"

    def replica_args(self, table: str) -> str:
        """Keeper path and replica name: per shard, or one set over all nodes."""
        shard = "all" if table in EVERYWHERE_TABLES else "{shard}"
        return f"'/clickhouse/tables/{shard}/{self.database}/{table}', '{{replica}}'"


def _body(statement: str) -> tuple[str, str]:
    """Split off the leading comment lines (kept as they are) from the SQL."""
    lines = statement.split("\n")
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("--")):
        i += 1
    return "\n".join(lines[:i]) + ("\n" if i else ""), "\n".join(lines[i:])


def _matching(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at ``open_at``."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise UnsupportedStatement("unbalanced parentheses")


def sharded_tables(statements: list[str]) -> set[str]:
    """Tables created by the migrations that get a local table and a Distributed one, and
    the names they were renamed to (a name once sharded stays in the set: the statements of
    every migration are rewritten with one set, the earlier ones under the old name)."""
    names = set()
    for statement in statements:
        sql = _body(statement)[1]
        if (match := _CREATE_TABLE.match(sql)) and match.group(1) not in EVERYWHERE_TABLES:
            names.add(match.group(1))
        elif (match := _RENAME.match(sql)) and match.group(1) in names:
            names.add(match.group(2))
    return names


def local_name(table: str, sharded: set[str] | frozenset[str]) -> str:
    return table + LOCAL_SUFFIX if table in sharded else table


def _locals_in_select(sql: str, sharded: set[str]) -> str:
    return _FROM.sub(lambda m: m.group(1) + m.group(2) + local_name(m.group(3), sharded), sql)


def _create_table(sql: str, table: str, cluster: Cluster, sharded: set[str]) -> list[str]:
    engine_at = sql.find("ENGINE = ")
    if engine_at < 0:
        raise UnsupportedStatement(f"table {table} names no engine")
    name_end = engine_at + len("ENGINE = ")
    engine = re.match(r"\w+", sql[name_end:])
    if engine is None or not engine.group(0).endswith("MergeTree"):
        raise UnsupportedStatement(f"table {table}: only *MergeTree engines are rewritten")
    after = name_end + len(engine.group(0))
    args = ""
    if after < len(sql) and sql[after] == "(":
        close = _matching(sql, after)
        args, after = sql[after + 1 : close], close + 1
    local = local_name(table, sharded)
    replicated = f"Replicated{engine.group(0)}({cluster.replica_args(local)}"
    replicated += f", {args})" if args else ")"
    head = sql[:engine_at].replace(
        f"CREATE TABLE IF NOT EXISTS {table}", f"CREATE TABLE IF NOT EXISTS {local} {cluster.on}", 1
    )
    tail = sql[after:].replace(
        "non_replicated_deduplication_window", "replicated_deduplication_window"
    )
    statements = [f"{head}ENGINE = {replicated}{tail}"]
    if local != table:
        # rand(): only inserts through the Distributed table use it (the backfills of the
        # aggregates); the sink writes the local tables of the shard it picks (shard_of).
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {table} {cluster.on} AS {local}\n"
            f"ENGINE = Distributed('{cluster.name}', {cluster.database}, {local}, rand())"
        )
    return statements


def _alter(sql: str, table: str, cluster: Cluster, sharded: set[str]) -> list[str]:
    rest = sql[_ALTER.match(sql).end() :]  # type: ignore[union-attr]
    if table not in sharded:
        # an everywhere table: its ALTER is replicated through Keeper to every node
        return [sql]
    local = f"ALTER TABLE {local_name(table, sharded)} {cluster.on}\n{rest}"
    if _LOCAL_ONLY_ALTER.search(rest):
        if re.search(r"\b(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b", rest):
            raise UnsupportedStatement(
                f"ALTER TABLE {table} mixes column changes with local-only changes; "
                "split it into two statements"
            )
        return [local]
    return [local, f"ALTER TABLE {table} {cluster.on}\n{rest}"]


def _rename(old: str, new: str, cluster: Cluster, sharded: set[str]) -> list[str]:
    if old not in sharded:
        return [f"RENAME TABLE IF EXISTS {old} TO {new} {cluster.on}"]
    if old in EVERYWHERE_TABLES or new in EVERYWHERE_TABLES:
        raise UnsupportedStatement(f"renaming {old} to {new}: an everywhere table")
    old_local, new_local = local_name(old, sharded), local_name(new, sharded)
    # IF EXISTS: a migration stopped half-way runs again from its first statement
    return [
        f"RENAME TABLE IF EXISTS {old_local} TO {new_local} {cluster.on}",
        f"DROP TABLE IF EXISTS {old} {cluster.on}",
        f"CREATE TABLE IF NOT EXISTS {new} {cluster.on} AS {new_local}\n"
        f"ENGINE = Distributed('{cluster.name}', {cluster.database}, {new_local}, rand())",
    ]


def cluster_statements(statement: str, cluster: Cluster, sharded: set[str]) -> list[str]:
    """One single-node migration statement as the statements cluster mode runs."""
    comments, sql = _body(statement)
    out: list[str]
    if match := _CREATE_TABLE.match(sql):
        out = _create_table(sql, match.group(1), cluster, sharded)
    elif match := _ALTER.match(sql):
        out = _alter(sql, match.group(1), cluster, sharded)
    elif match := _MATVIEW.match(sql):
        name, space, target, as_ = match.groups()
        select = _locals_in_select(sql[match.end() :], sharded)
        target = local_name(target, sharded)
        out = [
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name} {cluster.on}{space}"
            f"TO {target}{as_}{select}"
        ]
    elif match := _VIEW.match(sql):
        out = [
            f"CREATE VIEW IF NOT EXISTS {match.group(1)} {cluster.on}{match.group(2)}"
            + sql[match.end() :]
        ]
    elif match := _REPLACE_VIEW.match(sql):
        out = [
            f"CREATE OR REPLACE VIEW {match.group(1)} {cluster.on}{match.group(2)}"
            + sql[match.end() :]
        ]
    elif match := _DROP_VIEW.match(sql):
        out = [f"{sql} {cluster.on}"]
    elif match := _RENAME.match(sql):
        out = _rename(match.group(1), match.group(2), cluster, sharded)
    elif match := _INSERT.match(sql):
        # a back-fill through the Distributed tables, waiting until every shard has its rows
        out = [
            f"INSERT INTO {match.group(1)} SETTINGS distributed_foreground_insert = 1"
            f"{match.group(2)}{sql[match.end() :]}"
        ]
    elif match := _ROLE.match(sql):
        out = [f"{sql} {cluster.on}"]
    elif match := _USER.match(sql):
        out = [
            f"CREATE USER IF NOT EXISTS {match.group(1)} {cluster.on}{match.group(2)}"
            + sql[match.end() :]
        ]
    elif _GRANT.match(sql):
        out = [f"GRANT {cluster.on} " + sql[len("GRANT ") :]]
    else:
        raise UnsupportedStatement(f"no cluster-mode rewrite for: {sql[:80]!r}")
    return [comments + out[0], *out[1:]]


def migrations_table_ddl(cluster: Cluster | None) -> list[str]:
    """The bookkeeping table ``db migrate`` creates before the files."""
    if cluster is None:
        return [
            "CREATE TABLE IF NOT EXISTS schema_migrations (version String, checksum String, "
            "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
            "ENGINE = ReplacingMergeTree ORDER BY version",
            "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS note String DEFAULT ''",
        ]
    return [
        # the client made the database on its own node only; ON CLUSTER DDL needs it on all
        f"CREATE DATABASE IF NOT EXISTS {cluster.database} {cluster.on}",
        f"CREATE TABLE IF NOT EXISTS schema_migrations {cluster.on} (version String, "
        "checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3), "
        "note String DEFAULT '') "
        f"ENGINE = ReplicatedReplacingMergeTree({cluster.replica_args('schema_migrations')}) "
        "ORDER BY version",
    ]


def ttl_target(table: str, cluster: Cluster | None, sharded: set[str]) -> tuple[str, str]:
    """Which table an ``ALTER … TTL`` changes, and the ``ON CLUSTER`` clause it needs."""
    if cluster is None or table not in sharded:
        return table, ""
    return local_name(table, sharded), f" {cluster.on}"


def shard_of(topic: str, partition: int, shards: int) -> int:
    """The shard (0-based) every batch of one topic partition is inserted into.

    Stable across processes and restarts (CRC-32 of the topic name, plus the partition), so
    a replayed batch reaches the shard whose Keeper holds its token; consecutive partitions
    of a topic go to consecutive shards, spreading a topic evenly."""
    if shards < 1:
        raise ValueError("a cluster has at least one shard")
    return (zlib.crc32(topic.encode()) + partition) % shards
