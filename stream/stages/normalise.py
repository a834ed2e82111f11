"""Stage ``normalise``: HS codes to digits and levels (issue 4 adds countries, text, money)."""

from __future__ import annotations

from schemas.enriched import HsCode


def normalise_hs(declared: str) -> HsCode:
    """``'6211.33.00.00'``, ``'6211 33'``, ``'8542 31 900 0'`` → digits and HS2/HS4/HS6.

    Levels the code is too short for are empty strings.
    """
    digits = "".join(ch for ch in declared if ch.isdigit())
    return HsCode(
        declared=declared,
        digits=digits,
        hs2=digits[:2] if len(digits) >= 2 else "",
        hs4=digits[:4] if len(digits) >= 4 else "",
        hs6=digits[:6] if len(digits) >= 6 else "",
    )


def normalise_country(value: str | None) -> str | None:
    """Upper-case ISO 3166 alpha-2 as declared; full name/alpha-3 mapping arrives with issue 4."""
    if value is None:
        return None
    code = value.strip().upper()
    return code or None
