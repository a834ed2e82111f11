"""Cell text → typed values as a mapping writes them: dates, decimal numbers, line numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache


def parse_date(text: str, formats: Sequence[str]) -> date:
    """The first of ``formats`` (strptime) that reads ``text`` wins."""
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} matches none of the date formats {', '.join(formats)}")


@cache
def _number_pattern(decimal: str, thousands: tuple[str, ...]) -> re.Pattern[str]:
    whole = r"\d+"
    if thousands:
        group = "[" + "".join(re.escape(sep) for sep in thousands) + "]"
        whole = rf"(?:\d{{1,3}}(?:{group}\d{{3}})+|\d+)"
    point = re.escape(decimal)
    return re.compile(rf"[+-]?(?:{whole}(?:{point}\d+)?|{point}\d+)")


def parse_number(text: str, decimal: str, thousands: Sequence[str] = ()) -> Decimal:
    """A number written with ``decimal`` and optional ``thousands`` separators (groups of 3).

    ``parse_number("1 234 567,89", ",", [" "]) == Decimal("1234567.89")``; a stray
    separator, a second decimal mark or any other character is refused.
    """
    seps = tuple(thousands)
    if not _number_pattern(decimal, seps).fullmatch(text):
        grouping = " or ".join(repr(sep) for sep in seps) if seps else "none"
        raise ValueError(
            f"{text!r} is not a number with decimal {decimal!r} and thousands {grouping}"
        )
    plain = "".join(ch for ch in text if ch not in seps).replace(decimal, ".")
    return Decimal(plain)


def parse_line_no(text: str) -> int:
    """A goods line number: a whole number from 1."""
    if not text.isdecimal() or int(text) < 1:
        raise ValueError(f"{text!r} is not a line number (a whole number from 1)")
    return int(text)
