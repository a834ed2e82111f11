"""Finding the refused rows of a batch by halving: every good row lands once, every bad
row is named, an outage stops the search (the caller retries it whole)."""

from __future__ import annotations

import pytest

from stream.errors import WarehouseRejected, WarehouseUnavailable
from stream.sink.bisect import refused_rows, sub_token


class Table:
    def __init__(self, bad: set[int], outage_after: int | None = None) -> None:
        self.bad = bad
        self.landed: dict[str, range] = {}  # token → rows, as ClickHouse keeps them
        self.calls = 0
        self.outage_after = outage_after

    def insert(self, lo: int, hi: int) -> None:
        self.calls += 1
        if self.outage_after is not None and self.calls > self.outage_after:
            raise WarehouseUnavailable("connection refused")
        wrong = sorted(self.bad & set(range(lo, hi)))
        if wrong:
            raise WarehouseRejected(f"row {wrong[0]} is wrong")
        self.landed.setdefault(sub_token("T", lo, hi), range(lo, hi))

    def rows(self) -> list[int]:
        return sorted(r for rows in self.landed.values() for r in rows)


@pytest.mark.parametrize("count,bad", [(1, {0}), (10, {3}), (10_000, {0, 4999, 9999}), (7, set())])
def test_only_the_bad_rows_are_refused_and_every_other_row_lands_once(
    count: int, bad: set[int]
) -> None:
    table = Table(bad)
    refused = refused_rows(count, table.insert, "the whole batch")
    assert [index for index, _ in refused] == sorted(bad)
    assert table.rows() == [r for r in range(count) if r not in bad]
    if count > 1:
        assert all(reason == f"row {index} is wrong" for index, reason in refused)
    assert table.calls <= 2 * max(len(bad), 1) * count.bit_length()


def test_one_bad_row_keeps_the_reason_of_the_whole_refusal() -> None:
    assert refused_rows(1, Table({0}).insert, "Code: 469 constraint") == [
        (0, "Code: 469 constraint")
    ]


def test_an_outage_midway_propagates_and_a_retry_lands_nothing_twice() -> None:
    table = Table({5}, outage_after=3)
    with pytest.raises(WarehouseUnavailable):
        refused_rows(16, table.insert, "refused")
    table.outage_after = None
    assert refused_rows(16, table.insert, "refused") == [(5, "row 5 is wrong")]
    assert table.rows() == [r for r in range(16) if r != 5]  # same sub-tokens: kept once


def test_sub_tokens_name_the_batch_and_the_row_range() -> None:
    assert sub_token("t-0-10-20@id", 0, 512) == "t-0-10-20@id/0-512"
