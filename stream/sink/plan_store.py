"""Where the sink keeps its batch plans: the ``sink_batches`` table.

A plan is written before its batch's first insert attempt, so a reader that takes the
partition over after a crash rebuilds the same batches and their tokens, and written again
with ``landed = 1`` once ClickHouse acknowledged the rows, so a replay skips them (see
plans.py). Plans are per topic incarnation; the upstream identities (content, not
position) are remembered across incarnations.
"""

from __future__ import annotations

from stream.sink.plans import Plan
from stream.warehouse.client import Warehouse

PLAN_COLUMNS = (
    "topic", "partition", "incarnation", "first_offset", "last_offset", "token", "table",
    "identities", "rows", "dropped", "landed",
)  # fmt: skip


def _write(warehouse: Warehouse, plan: Plan, table: str, landed: bool) -> None:
    row = [
        plan.topic, plan.partition, plan.incarnation, plan.first_offset, plan.last_offset,
        plan.token, table, list(plan.identities), plan.rows, plan.dropped, int(landed),
    ]  # fmt: skip
    kind = "landed" if landed else "plan"
    warehouse.insert_rows("sink_batches", [row], PLAN_COLUMNS, f"{kind}:{plan.token}")


def record_plan(warehouse: Warehouse, plan: Plan, table: str) -> None:
    _write(warehouse, plan, table, landed=False)


def mark_landed(warehouse: Warehouse, plan: Plan, table: str) -> None:
    """ClickHouse has the batch's rows: a replay of the range needs no insert."""
    _write(warehouse, plan, table, landed=True)


def plans_from(
    warehouse: Warehouse, topic: str, partition: int, incarnation: str, offset: int, limit: int
) -> list[Plan]:
    """Plans of this incarnation of ``topic-partition`` reaching ``offset`` or later, oldest
    first."""
    result = warehouse.query(
        "SELECT first_offset, last_offset, identities, rows, dropped, landed FROM sink_batches "
        "FINAL WHERE topic = {t:String} AND partition = {p:Int32} AND incarnation = {i:String} "
        "AND last_offset >= {o:Int64} ORDER BY first_offset LIMIT {n:UInt32}",
        {"t": topic, "p": partition, "i": incarnation, "o": offset, "n": limit},
    )
    return [
        Plan(topic, partition, int(f), int(la), tuple(ids), int(r), int(d), incarnation, bool(ld))
        for f, la, ids, r, d, ld in result.rows
    ]


def recent_identities(warehouse: Warehouse, topic: str, partition: int, limit: int) -> list[str]:
    """Upstream identities of the partition's most recent batches (any incarnation: an
    identity names content), oldest first."""
    result = warehouse.query(
        "SELECT identity FROM (SELECT planned_at, first_offset, arrayJoin(identities) AS identity "
        "FROM sink_batches FINAL WHERE topic = {t:String} AND partition = {p:Int32} "
        "ORDER BY planned_at DESC, first_offset DESC LIMIT {n:UInt32}) "
        "ORDER BY planned_at, first_offset",
        {"t": topic, "p": partition, "n": limit},
    )
    return [str(row[0]) for row in result.rows]
