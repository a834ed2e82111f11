"""Which rows of a refused batch ClickHouse finds wrong: halve until each is alone. Pure.

A data error (see stream/warehouse/error_codes.py) names the batch, not the row. The sink
inserts the two halves of a refused range, each with a token derived from the batch's and
the range's (``<token>/<lo>-<hi>``), and halves again what is refused, down to single rows:
the good rows land, the bad ones are dead-lettered, one by one. With ``k`` bad rows among
``n`` this costs about ``2·k·log2(n)`` inserts. The halving is the same on every attempt, so a
replay after a crash midway produces the same sub-tokens and ClickHouse drops what landed.
"""

from __future__ import annotations

from collections.abc import Callable

from stream.errors import WarehouseRejected


def sub_token(token: str, lo: int, hi: int) -> str:
    """The token of rows ``lo..hi-1`` of the batch ``token``."""
    return f"{token}/{lo}-{hi}"


def refused_rows(
    count: int, insert: Callable[[int, int], None], reason: str
) -> list[tuple[int, str]]:
    """The rows of ``0..count-1`` that ``insert(lo, hi)`` refuses, with ClickHouse's reason,
    given that the whole range was refused for ``reason``. ``insert`` raises
    :class:`WarehouseRejected` for a data error; anything else (an outage) propagates to the
    caller, who retries it all."""
    refused: list[tuple[int, str]] = []

    def halve(lo: int, hi: int, reason: str) -> None:
        if hi - lo == 1:
            refused.append((lo, reason))
            return
        mid = (lo + hi) // 2
        for a, b in ((lo, mid), (mid, hi)):
            try:
                insert(a, b)
            except WarehouseRejected as exc:
                halve(a, b, str(exc))

    if count > 0:
        halve(0, count, reason)
    return refused
