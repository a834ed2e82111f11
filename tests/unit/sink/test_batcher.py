"""The sink's batching: tokens, size and time bounds, redelivered copies, planned replays."""

from __future__ import annotations

import pytest

from stream.sink.batcher import Batch, PartitionBatcher, SinkRecord
from stream.sink.plans import Plan, batch_token


def record(offset: int, identity: str | None, rows: int = 1) -> SinkRecord:
    return SinkRecord(offset, identity, [[identity, i] for i in range(rows)], b"x")


def batcher(max_rows: int = 10, **kwargs: object) -> PartitionBatcher:
    return PartitionBatcher("t.enriched", 3, max_rows, 1.0, 1000, **kwargs)  # type: ignore[arg-type]


def feed(b: PartitionBatcher, records: list[SinkRecord], now: float = 0.0) -> list[Batch]:
    return [batch for r in records for batch in b.add(r, now)]


def test_token_names_topic_partition_the_inclusive_offset_range_and_the_incarnation() -> None:
    assert batch_token("customs.enriched", 2, 100, 199) == "customs.enriched-2-100-199"
    assert batch_token("e", 2, 100, 199, "uuid-1") == "e-2-100-199@uuid-1"
    # no topic id from the broker: the batch's content tells two incarnations apart
    a, b = batch_token("e", 0, 0, 1, "", ["x", "y"]), batch_token("e", 0, 0, 1, "", ["x", "z"])
    assert a.startswith("e-0-0-1#") and a != b
    assert a == batch_token("e", 0, 0, 1, "", ["x", "y"])
    assert Plan("customs.enriched", 2, 100, 199).next_offset == 200
    with pytest.raises(ValueError, match="not an offset range"):
        batch_token("t", 0, 5, 4)
    with pytest.raises(ValueError):
        batch_token("t", 0, -1, 4)


def test_a_batch_closes_at_max_rows_and_its_range_is_the_offsets_it_covers() -> None:
    b = batcher(max_rows=5)
    closed = feed(b, [record(o, f"raw-{o}", rows=2) for o in range(10, 14)])
    assert len(closed) == 1
    plan = closed[0].plan
    assert (plan.first_offset, plan.last_offset, plan.rows) == (10, 12, 6)
    assert plan.token.startswith("t.enriched-3-10-12#")
    assert plan.identities == ("raw-10", "raw-11", "raw-12")
    assert b.pending_rows == 2  # offset 13 opened the next batch


def test_a_batch_closes_when_its_first_record_is_old_enough() -> None:
    b = batcher(max_rows=100)
    assert b.add(record(0, "a"), now=10.0) == []
    b.add(record(1, "b"), now=10.5)
    assert b.due(now=10.9) is None
    due = b.due(now=11.0)
    assert due is not None and (due.plan.first_offset, due.plan.last_offset) == (0, 1)
    assert b.due(now=99.0) is None  # nothing open


def test_a_partition_still_receiving_keeps_its_batch_open_longer_but_not_past_the_cap() -> None:
    b = PartitionBatcher("t.enriched", 3, 100, 1.0, 1000, max_wait_behind_s=5.0)
    b.add(record(0, "a"), now=10.0)
    assert b.due(now=12.0, behind=True) is None  # records still coming: grow the insert
    assert b.due(now=14.9, behind=True) is None
    late = b.due(now=15.0, behind=True)
    assert late is not None and late.plan.last_offset == 0
    b.add(record(1, "b"), now=20.0)
    idle = b.due(now=21.0, behind=False)  # nothing came in the last fetch: the usual age
    assert idle is not None and idle.plan.first_offset == 1


def test_under_sustained_load_a_batch_grows_between_fetches_but_not_after_a_quiet_spell() -> None:
    b = PartitionBatcher("t.enriched", 3, 100, 1.0, 1000, max_wait_behind_s=5.0)
    b.add(record(0, "a"), now=10.0)
    first = b.due(now=11.0)  # nothing before it: the usual age
    assert first is not None and first.plan.last_offset == 0
    b.add(record(1, "b"), now=11.6)  # records keep coming, a fetch apart or more
    assert b.due(now=13.0, flowing=True) is None
    b.add(record(2, "c"), now=13.3)
    assert b.due(now=16.5, flowing=True) is None
    grown = b.due(now=16.6, flowing=True)
    assert grown is not None and (grown.plan.first_offset, grown.plan.last_offset) == (1, 2)
    b.add(record(3, "d"), now=30.0)  # after a quiet spell: back to the usual age
    alone = b.due(now=31.0, flowing=True)
    assert alone is not None and alone.plan.first_offset == 3
    b.add(record(4, "e"), now=31.5)
    b.add(record(5, "f"), now=31.9)
    last = b.due(now=32.6, flowing=False)  # the feed stopped: the usual age again
    assert last is not None and (last.plan.first_offset, last.plan.last_offset) == (4, 5)


def test_a_redelivered_upstream_message_is_dropped_but_its_offset_is_covered() -> None:
    b = batcher(max_rows=100, seen=["raw-1"])
    feed(b, [record(0, "raw-1"), record(1, "raw-2"), record(2, "raw-2"), record(3, None)])
    batch = b.due(now=5.0)
    assert batch is not None
    assert batch.plan.identities == ("raw-2",)
    assert batch.plan.dropped == 2
    assert (batch.plan.first_offset, batch.plan.last_offset) == (0, 3)
    assert [row[0] for row in batch.rows] == ["raw-2", None]
    # raw-2 is now remembered: a later copy is dropped too
    b.add(record(4, "raw-2"), now=6.0)
    late = b.due(now=8.0)
    assert late is not None and late.rows == [] and late.plan.dropped == 1


def test_memory_is_bounded_oldest_first() -> None:
    b = PartitionBatcher("t", 0, 1, 1.0, memory=2)
    feed(b, [record(0, "a"), record(1, "b"), record(2, "c")])
    again = feed(b, [record(3, "a"), record(4, "c")])  # "a" was forgotten, "c" was not
    assert [batch.plan.identities for batch in again] == [("a",)]
    dropped = b.due(now=5.0)
    assert dropped is not None and dropped.plan.dropped == 1 and dropped.rows == []


def test_a_planned_range_replays_exactly_whatever_the_bounds_say_now() -> None:
    first = batcher(max_rows=3)
    records = [record(o, f"raw-{o % 4}", rows=1) for o in range(20, 26)]  # 24, 25 are copies
    original = feed(first, records)
    original.append(first.due(now=9.0))  # type: ignore[arg-type]
    plans = [b.plan for b in original]
    assert [(p.first_offset, p.last_offset) for p in plans] == [(20, 22), (23, 25)]

    # A new owner with other bounds and no memory rebuilds the same ranges and rows.
    again = batcher(max_rows=1000, replays=plans)
    replayed = feed(again, records)
    assert [b.plan for b in replayed] == plans
    assert all(b.replayed for b in replayed)
    assert [b.rows for b in replayed] == [b.rows for b in original]
    assert again.replays_left == 0
    # After the plans, normal batching resumes.
    after = feed(again, [record(26, "raw-new")])
    assert after == [] and again.pending_rows == 1


def test_a_replayed_range_is_never_closed_by_time() -> None:
    plan = Plan("t.enriched", 3, 0, 2, ("a", "b", "c"), rows=3)
    b = batcher(replays=[plan])
    feed(b, [record(0, "a"), record(1, "b")])
    assert b.due(now=1e9) is None
    closed = b.add(record(2, "c"), now=1e9)
    assert [c.plan for c in closed] == [plan]


def test_records_before_a_plan_form_their_own_batch_and_stale_plans_are_skipped() -> None:
    stale = Plan("t.enriched", 3, 0, 4, ("old",))
    plan = Plan("t.enriched", 3, 8, 9, ("p8", "p9"), rows=2)
    b = batcher(replays=[plan, stale])
    closed = feed(b, [record(6, "n6"), record(7, "n7"), record(8, "p8"), record(9, "p9")])
    assert [(c.plan.first_offset, c.plan.last_offset, c.replayed) for c in closed] == [
        (6, 7, False),
        (8, 9, True),
    ]


def test_a_plan_whose_last_record_is_gone_closes_on_the_next_offset() -> None:
    plan = Plan("t.enriched", 3, 0, 5, ("a",), rows=1)
    b = batcher(replays=[plan])
    closed = feed(b, [record(0, "a"), record(9, "z")])
    assert [c.plan for c in closed] == [plan]
    assert b.pending_rows == 1


def test_undecodable_records_travel_with_the_batch_for_dead_lettering() -> None:
    b = batcher()
    b.add(record(0, "a"), now=0)
    b.add(SinkRecord(1, None, (), b"junk", error="not an enriched batch"), now=0)
    batch = b.due(now=2)
    assert batch is not None
    assert [r.offset for r in batch.failures] == [1]
    assert [r.offset for r in batch.records] == [0]
    assert batch.plan.last_offset == 1
