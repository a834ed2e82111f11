"""Where the sink keeps its batch plans: the ``sink_batches`` table.

A plan is written before its batch's first insert attempt, so a reader that takes the
partition over after a crash rebuilds the same batches and their tokens (see plans.py).
"""

from __future__ import annotations

from stream.sink.plans import Plan
from stream.warehouse.client import Warehouse

PLAN_COLUMNS = (
    "topic", "partition", "first_offset", "last_offset", "token", "table", "identities",
    "rows", "dropped",
)  # fmt: skip


def record_plan(warehouse: Warehouse, plan: Plan, table: str) -> None:
    row = [
        plan.topic, plan.partition, plan.first_offset, plan.last_offset, plan.token,
        table, list(plan.identities), plan.rows, plan.dropped,
    ]  # fmt: skip
    warehouse.insert_rows("sink_batches", [row], PLAN_COLUMNS, f"plan:{plan.token}")


def plans_from(
    warehouse: Warehouse, topic: str, partition: int, offset: int, limit: int
) -> list[Plan]:
    """Plans of ``topic-partition`` reaching ``offset`` or later, oldest first."""
    result = warehouse.query(
        "SELECT first_offset, last_offset, identities, rows, dropped FROM sink_batches "
        "FINAL WHERE topic = {t:String} AND partition = {p:Int32} "
        "AND last_offset >= {o:Int64} ORDER BY first_offset LIMIT {n:UInt32}",
        {"t": topic, "p": partition, "o": offset, "n": limit},
    )
    return [
        Plan(topic, partition, int(f), int(la), tuple(ids), int(r), int(d))
        for f, la, ids, r, d in result.rows
    ]


def recent_identities(warehouse: Warehouse, topic: str, partition: int, limit: int) -> list[str]:
    """Upstream identities of the partition's most recent batches, oldest first."""
    result = warehouse.query(
        "SELECT identity FROM (SELECT first_offset, arrayJoin(identities) AS identity "
        "FROM sink_batches FINAL WHERE topic = {t:String} AND partition = {p:Int32} "
        "ORDER BY first_offset DESC LIMIT {n:UInt32}) ORDER BY first_offset",
        {"t": topic, "p": partition, "n": limit},
    )
    return [str(row[0]) for row in result.rows]
