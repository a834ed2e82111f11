"""The stalled-commit watch: when a partition counts as stalled, and what faust's consumer
is read for it (real faust objects, not started)."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest
from faust.types import TP

from stream.worker.patches import consumer_views
from stream.worker.stalls import PartitionView, StallWatch, candidate

A, B = TP("t.facts", 0), TP("t.facts", 1)


def view(committed: int | None, delivered: int | None, pending: bool = False) -> PartitionView:
    return PartitionView(committed=committed, delivered=delivered, pending=pending)


@pytest.mark.parametrize(
    ("v", "expected"),
    [
        (view(7, 30), True),  # delivered past the commit, nothing held: the ack of 7 is lost
        (view(7, 7), True),  # sought back to 7 (or 7 delivered) and nothing held
        (view(7, 6), False),  # everything delivered is committed
        (view(7, 30, pending=True), False),  # a record is queued or being handled
        (view(None, 30), False),  # nothing committed yet: faust commits past a missing head
        (view(7, None), False),  # nothing delivered since the assignment
    ],
)
def test_candidate(v: PartitionView, expected: bool) -> None:
    assert candidate(v) is expected


def test_a_partition_is_read_again_after_the_same_commit_stayed_stalled_long_enough() -> None:
    watch = StallWatch(stall_s=30)
    views = {A: view(7, 30), B: view(5, 40)}
    ends = {A: 153, B: 153}
    assert watch.observe(0, views, ends) == []
    assert watch.observe(29, views, ends) == []
    assert watch.observe(31, views, ends) == [(A, 7), (B, 5)]
    # after the seek each is watched afresh
    assert watch.observe(32, views, ends) == []
    assert watch.observe(62, views, ends) == [(A, 7), (B, 5)]


def test_a_moving_commit_a_held_record_or_a_caught_up_log_resets_the_clock() -> None:
    watch = StallWatch(stall_s=30)
    assert watch.observe(0, {A: view(7, 30), B: view(5, 40)}, {A: 153, B: 153}) == []
    # A's commit moved; B now holds a record
    assert watch.observe(20, {A: view(9, 30), B: view(5, 40, pending=True)}, {A: 153}) == []
    assert watch.observe(40, {A: view(9, 30), B: view(5, 40)}, {A: 153, B: 153}) == []
    assert watch.observe(51, {A: view(9, 30), B: view(5, 40)}, {A: 153, B: 153}) == [(A, 9)]
    # the committed offset is the log's end: caught up, never stalled
    watch = StallWatch(stall_s=1)
    assert watch.observe(0, {A: view(153, 152)}, {A: 153}) == []
    assert watch.observe(5, {A: view(153, 153)}, {A: 153}) == []


def test_consumer_views_reads_commit_delivery_unacked_and_queued_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def read() -> dict[TP, PartitionView]:
        app = faust.App("stall-test", broker="kafka://localhost:1", autodiscover=False)
        topic: Any = app.topic("t.facts", value_type=bytes, value_serializer="raw")
        consumer: Any = app.consumer
        tps = {A, B, TP("t.raw", 0), TP("stall-test-importers-changelog", 0)}
        monkeypatch.setattr(consumer, "assignment", lambda: tps)
        monkeypatch.setattr(
            type(app.tables), "changelog_topics", {"stall-test-importers-changelog"}
        )
        consumer._committed_offset.update({A: 7, B: 5})
        consumer._read_offset.update({A: 30, B: 9})
        # A: one record queued for an agent; B: one being handled (unacknowledged)
        queued = faust.types.Message("t.facts", 0, 31, 0.0, 0, None, b"k", b"v", None)
        handled = faust.types.Message("t.facts", 1, 9, 0.0, 0, None, b"k", b"v", None)
        below = faust.types.Message("t.facts", 1, 2, 0.0, 0, None, b"k", b"v", None)
        channel = topic.clone(is_iterator=True)
        app.topics._tp_index[A].add(channel)
        channel.queue.put_nowait(faust.Event(app, b"k", b"v", {}, queued))
        consumer._unacked_messages.add(handled)
        consumer._unacked_messages.add(below)  # under B's commit: holds nothing back
        views = consumer_views(app)
        consumer._unacked_messages.discard(handled)
        handled.acked = True  # once acknowledged it no longer counts
        consumer._unacked_messages.add(handled)
        keep = (queued, below)  # the set is weak
        later = consumer_views(app)
        del keep
        return {**{f"later {tp}": v for tp, v in later.items()}, **views}  # type: ignore[dict-item]

    views: Any = asyncio.run(read())
    assert views[A] == view(7, 30, pending=True)
    assert views[B] == view(5, 9, pending=True)
    assert views[TP("t.raw", 0)] == view(None, None)
    assert TP("stall-test-importers-changelog", 0) not in views  # tables recover on their own
    assert views[f"later {B}"] == view(5, 9, pending=False)
