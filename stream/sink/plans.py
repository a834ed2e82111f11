"""Batch plans: the offset range of a batch, fixed before its first insert attempt.

A batch is identified by ``<topic>-<partition>-<first offset>-<last offset>``, which is also
its ClickHouse ``insert_deduplication_token``. The sink records the plan (range and the
upstream messages it kept) in the ``sink_batches`` table *before* inserting, and commits the
Kafka offset only after the insert was acknowledged. Whoever reads the partition again
after a crash or a rebalance loads the plans at or past the committed offset and rebuilds
exactly those ranges, so a replayed batch carries the same token and ClickHouse drops it.
"""

from __future__ import annotations

from dataclasses import dataclass


def batch_token(topic: str, partition: int, first_offset: int, last_offset: int) -> str:
    """The deduplication token of the batch covering offsets ``first..last`` (inclusive)."""
    if first_offset < 0 or last_offset < first_offset:
        raise ValueError(f"not an offset range: {first_offset}..{last_offset}")
    return f"{topic}-{partition}-{first_offset}-{last_offset}"


@dataclass(frozen=True, slots=True)
class Plan:
    """One batch's range and the upstream messages whose rows it carries, in order."""

    topic: str
    partition: int
    first_offset: int
    last_offset: int
    identities: tuple[str, ...] = ()
    rows: int = 0
    dropped: int = 0

    @property
    def token(self) -> str:
        return batch_token(self.topic, self.partition, self.first_offset, self.last_offset)

    @property
    def next_offset(self) -> int:
        """The offset to commit once this batch is in ClickHouse."""
        return self.last_offset + 1
