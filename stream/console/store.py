"""The console's triage store: users, sessions, alert states, suppressions and the audit
events, in one SQLAlchemy database (SQLite by default, PostgreSQL by URL).

Alert states carry a ``version``: every change is a compare-and-set on the version the
actor saw, so of two analysts acting on one alert one wins and the other is told
(:class:`Conflict`). Audit events are only ever inserted; the ``outbox`` lists the ones not
yet published on the actions topic. The schema is versioned by :data:`MIGRATIONS` (a
small ordered list applied once each, recorded in ``console_schema``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from schemas.alert_action import AlertAction, Suppression

metadata = MetaData()

schema_table = Table("console_schema", metadata, Column("version", Integer, primary_key=True))
users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
alert_states = Table(
    "alert_states",
    metadata,
    Column("alert_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("assignee", String(64)),
    Column("outcome", String(32)),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64), nullable=False),
)
suppressions = Table(
    "suppressions",
    metadata,
    Column("suppression_id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(64), nullable=False),
    Column("party_key", String(512), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("days", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("until", DateTime(timezone=True)),
)
events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("alert_id", String(64), nullable=False, index=True),
    Column("payload", Text, nullable=False),
)
outbox = Table("outbox", metadata, Column("event_id", String(32), primary_key=True))

# version -> tables it creates; a new version appends an entry (ALTERs go in a callable).
MIGRATIONS: Sequence[tuple[int, Callable[[Connection], None]]] = (
    (1, lambda conn: metadata.create_all(conn)),
)


class Conflict(Exception):
    """Someone changed the alert since the actor loaded it."""


@dataclass(frozen=True, slots=True)
class AlertState:
    alert_id: str
    status: str = "new"
    assignee: str | None = None
    outcome: str | None = None
    version: int = 0
    updated_by: str | None = None
    updated_at: datetime | None = None

    def fields(self) -> dict[str, str | None]:
        """What the audit trail records before and after a change."""
        return {"status": self.status, "assignee": self.assignee, "outcome": self.outcome}


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def new_event_id() -> str:
    return uuid.uuid4().hex


class Store:
    """Every read and write of the triage state. Each method is one transaction."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def migrate(self) -> list[int]:
        applied = []
        with self.engine.begin() as conn:
            schema_table.create(conn, checkfirst=True)
            done = set(conn.scalars(select(schema_table.c.version)))
            for version, step in MIGRATIONS:
                if version not in done:
                    step(conn)
                    conn.execute(insert(schema_table).values(version=version))
                    applied.append(version)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError as exc:
            raise Conflict(str(exc.params)) from exc

    # users and sessions
    def add_user(self, username: str, password_hash: str, role: str, now: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(delete(users).where(users.c.username == username))
            conn.execute(
                insert(users).values(
                    username=username, password_hash=password_hash, role=role, created_at=now
                )
            )

    def user(self, username: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return dict(row._mapping) if row else None

    def usernames(self) -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users.c.username, users.c.role).order_by(users.c.username))
            return [(r.username, r.role) for r in rows]

    def set_password_hash(self, username: str, password_hash: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(password_hash=password_hash)
            )

    def add_session(self, token_hash: str, username: str, csrf: str, expires: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                insert(sessions).values(
                    token_hash=token_hash, username=username, csrf=csrf, expires_at=expires
                )
            )

    def session(self, token_hash: str, now: datetime) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sessions, users.c.role)
                .join(users, users.c.username == sessions.c.username)
                .where(sessions.c.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        found = dict(row._mapping)
        expires = utc(found["expires_at"])
        return found if expires is not None and expires > now else None

    def drop_session(self, token_hash: str) -> None:
        with self.transaction() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    # alert states
    def states(self) -> dict[str, AlertState]:
        with self.engine.connect() as conn:
            return {r.alert_id: _state(r._mapping) for r in conn.execute(select(alert_states))}

    def state(self, alert_id: str, conn: Connection | None = None) -> AlertState:
        if conn is None:
            with self.engine.connect() as own:
                return self.state(alert_id, own)
        row = conn.execute(select(alert_states).where(alert_states.c.alert_id == alert_id)).first()
        return _state(row._mapping) if row else AlertState(alert_id)

    def compare_and_set(
        self, conn: Connection, seen: AlertState, new: AlertState, actor: str, now: datetime
    ) -> AlertState:
        """Write ``new`` only if the stored version is still ``seen.version``."""
        values = {
            "status": new.status,
            "assignee": new.assignee,
            "outcome": new.outcome,
            "version": seen.version + 1,
            "updated_at": now,
            "updated_by": actor,
        }
        if seen.version == 0:
            # a concurrent first write fails on the primary key: IntegrityError, which
            # :meth:`transaction` turns into Conflict after rolling back
            conn.execute(insert(alert_states).values(alert_id=seen.alert_id, **values))
        else:
            done = conn.execute(
                update(alert_states)
                .where(alert_states.c.alert_id == seen.alert_id)
                .where(alert_states.c.version == seen.version)
                .values(**values)
            )
            if done.rowcount != 1:
                raise Conflict(seen.alert_id)
        return AlertState(
            seen.alert_id, new.status, new.assignee, new.outcome, seen.version + 1, actor, now
        )

    # audit events and their outbox
    def record(self, conn: Connection, action: AlertAction) -> None:
        conn.execute(
            insert(events).values(
                event_id=action.event_id,
                alert_id=action.alert_id,
                payload=action.model_dump_json(),
            )
        )
        conn.execute(insert(outbox).values(event_id=action.event_id))

    def trail(self, alert_id: str | None = None, limit: int = 500) -> list[AlertAction]:
        query = select(events.c.payload).order_by(events.c.seq.desc()).limit(limit)
        if alert_id is not None:
            query = query.where(events.c.alert_id == alert_id)
        with self.engine.connect() as conn:
            return [AlertAction.model_validate_json(p) for p in conn.scalars(query)]

    def unpublished(self, limit: int = 500) -> list[AlertAction]:
        query = (
            select(events.c.payload)
            .join(outbox, outbox.c.event_id == events.c.event_id)
            .order_by(events.c.seq)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [AlertAction.model_validate_json(p) for p in conn.scalars(query)]

    def mark_published(self, event_ids: Sequence[str]) -> None:
        with self.transaction() as conn:
            conn.execute(delete(outbox).where(outbox.c.event_id.in_(list(event_ids))))

    # suppressions
    def add_suppression(self, conn: Connection, values: dict[str, Any]) -> int:
        result = conn.execute(insert(suppressions).values(**values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def suppression(
        self, suppression_id: int, conn: Connection | None = None
    ) -> dict[str, Any] | None:
        if conn is None:
            with self.engine.connect() as own:
                return self.suppression(suppression_id, own)
        row = conn.execute(
            select(suppressions).where(suppressions.c.suppression_id == suppression_id)
        ).first()
        return dict(row._mapping) if row else None

    def decide_suppression(
        self, conn: Connection, suppression_id: int, values: dict[str, Any]
    ) -> None:
        """Pending → approved/rejected, once (compare-and-set on the status)."""
        done = conn.execute(
            update(suppressions)
            .where(suppressions.c.suppression_id == suppression_id)
            .where(suppressions.c.status == "pending")
            .values(**values)
        )
        if done.rowcount != 1:
            raise Conflict(f"suppression {suppression_id}")

    def suppressions(self) -> list[dict[str, Any]]:
        query = select(suppressions).order_by(suppressions.c.suppression_id.desc())
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def active_suppressions(self, now: datetime) -> list[Suppression]:
        out = []
        for row in self.suppressions():
            until = utc(row["until"])
            if row["status"] == "approved" and until is not None and until > now:
                out.append(
                    Suppression(
                        suppression_id=row["suppression_id"],
                        party_key=row["party_key"],
                        rule=row["rule"],
                        until=until,
                        reason=row["reason"],
                    )
                )
        return out


def _state(row: Any) -> AlertState:
    return AlertState(
        alert_id=row["alert_id"],
        status=row["status"],
        assignee=row["assignee"],
        outcome=row["outcome"],
        version=row["version"],
        updated_by=row["updated_by"],
        updated_at=utc(row["updated_at"]),
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)
