"""Batch plans: the offset range of a batch, fixed before its first insert attempt.

A batch is identified by ``<topic>-<partition>-<first offset>-<last offset>@<incarnation>``,
which is also its ClickHouse ``insert_deduplication_token``. The sink records the plan
(range and the upstream messages it kept) in the ``sink_batches`` table *before* inserting,
marks it ``landed`` once ClickHouse acknowledged the rows, and commits the Kafka offset only
after that. Whoever reads the partition again after a crash, a rebalance or a group reset
loads the plans at or past the committed offset and rebuilds exactly those ranges: a landed
range is not inserted again at all, and a range that may or may not have landed carries the
same token, so ClickHouse drops a second copy.

**Incarnation.** Offsets start again at 0 when a topic is deleted and created again (a
local broker that lost its state, ``customs-watch topics delete`` / ``create``), while
ClickHouse keeps the plans and its deduplication hashes. The incarnation is the topic's id
from the broker's metadata (a new UUID per creation), so plans and tokens of an earlier
topic of the same name are never taken for this one's. A broker that reports no topic id
gets a digest of the batch's upstream identities in the token instead (content, not
position).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass


def batch_token(
    topic: str,
    partition: int,
    first_offset: int,
    last_offset: int,
    incarnation: str = "",
    identities: Sequence[str] = (),
) -> str:
    """The deduplication token of the batch covering offsets ``first..last`` (inclusive)."""
    if first_offset < 0 or last_offset < first_offset:
        raise ValueError(f"not an offset range: {first_offset}..{last_offset}")
    token = f"{topic}-{partition}-{first_offset}-{last_offset}"
    if incarnation:
        return f"{token}@{incarnation}"
    if identities:
        digest = hashlib.sha256("\n".join(identities).encode()).hexdigest()[:16]
        return f"{token}#{digest}"
    return token


@dataclass(frozen=True, slots=True)
class Plan:
    """One batch's range and the upstream messages whose rows it carries, in order.
    ``landed``: ClickHouse acknowledged its rows (a replay skips the insert)."""

    topic: str
    partition: int
    first_offset: int
    last_offset: int
    identities: tuple[str, ...] = ()
    rows: int = 0
    dropped: int = 0
    incarnation: str = ""
    landed: bool = False

    @property
    def token(self) -> str:
        return batch_token(
            self.topic,
            self.partition,
            self.first_offset,
            self.last_offset,
            self.incarnation,
            self.identities,
        )

    @property
    def next_offset(self) -> int:
        """The offset to commit once this batch is in ClickHouse."""
        return self.last_offset + 1
