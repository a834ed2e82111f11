"""Stalled commits: a partition whose committed offset stopped moving although the worker
holds nothing of it, read again from that offset.

faust commits a partition only up to its first offset not acknowledged. Around a restart or
a rebalance, faust can lose one message it delivered (a queue cleared, a record dropped as
already read after the fetcher was sent back to the committed offset): nothing acknowledges
it any more, the commit stays there for good, and the group shows lag that never drains
(seen twice in 20 runs of the kill-and-rebalance test, on ``facts`` and on ``raw.jsonl``).

The watch reads, on a timer, what faust's consumer knows of each stream partition
(:func:`stream.worker.patches.consumer_views`) and calls a partition stalled when

- faust delivered a record at or past the committed offset,
- no record of it is waiting in an agent's queue or being handled (unacknowledged),
- the log holds records past the committed offset,

and the same committed offset stayed so for ``worker.commit_stall_s``. Then the consumer is
sent back to the committed offset: the records are delivered and handled again. Handling a
record twice is already safe (the sink keeps a line once per raw offset, the alert rules skip
a fact batch they applied), as it is after every restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PartitionView:
    """What the worker's consumer knows of one stream partition."""

    committed: int | None
    """Offset committed for the group (the next to read), None before the first commit."""
    delivered: int | None
    """Highest offset faust delivered to an agent (after a seek: the offset sought)."""
    pending: bool
    """A record of the partition waits in an agent's queue or is being handled."""


def candidate(view: PartitionView) -> bool:
    """Could be stalled: delivered at or past the committed offset, nothing held."""
    return (
        view.committed is not None
        and view.delivered is not None
        and view.delivered >= view.committed
        and not view.pending
    )


@dataclass
class StallWatch:
    """Remembers since when each partition has been a candidate at the same committed offset."""

    stall_s: float
    since: dict[Any, tuple[int, float]] = field(default_factory=dict)

    def observe(
        self, now: float, views: dict[Any, PartitionView], ends: dict[Any, int]
    ) -> list[tuple[Any, int]]:
        """The (partition, committed offset) pairs to read again. ``ends`` holds the log end
        of each candidate; a partition whose committed offset is the end is caught up."""
        reread: list[tuple[Any, int]] = []
        seen: dict[Any, tuple[int, float]] = {}
        for tp, view in views.items():
            if not candidate(view) or view.committed is None:
                continue
            if ends.get(tp, 0) <= view.committed:
                continue
            committed, first = self.since.get(tp, (view.committed, now))
            if committed != view.committed:
                first = now
            if now - first >= self.stall_s:
                reread.append((tp, view.committed))
                continue  # read again: watched afresh from the next round
            seen[tp] = (view.committed, first)
        self.since = seen
        return reread
