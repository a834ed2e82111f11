"""Reading a declared commodity code: which HS vintage, which level, or none at all.

A line is never refused for its code. The reader says how far the code can be trusted
(:data:`schemas.enriched.HsCodeStatus`) and what it means in HS 2022 terms:

- 6 digits in HS 2022 are ``valid``; 7-10 digits (EAEU ТН ВЭД, China, US HTS, EU CN8) are
  ``national`` and read by their HS6 prefix;
- an HS6 that exists only in an older vintage (HS 1992-2017) is read through
  ``hs_correlation.csv`` as the HS 2022 subheadings it correlates to, and the line records
  the vintage (8525.80 of HS 2017 → 8525.81-89 and 8806);
- 4 / 2 digits are a heading / chapter; blank or placeholder text is ``missing``; several
  codes in one field are ``several`` (the first is read, the others kept).

A five- or nine-digit code whose zero-padded form is an HS 2022 code lost its leading zero
in a spreadsheet (``10121`` → ``010121``) and is read padded.
"""

from __future__ import annotations

import re

from schemas.enriched import HsCode, HsCodeStatus
from schemas.rule_data import HsCorrelation
from schemas.trusted import trusted

CURRENT = "HS2022"
CACHE_SIZE = 20_000
_SEPARATOR = re.compile(r"\s*(?:[;|/\\]|,\s|\s(?:and|или|и|або|та|或)\s)\s*", re.I)
"""Between two codes in one field; runs of spaces are not one (fixed-width exports pad
national codes: ``8542 31  900 0``)."""
_NOT_DIGIT = re.compile(r"\D+")


def code_digits(declared: str) -> str:
    return _NOT_DIGIT.sub("", declared)


def hs_levels(
    declared: str,
    digits: str,
    status: HsCodeStatus = "valid",
    version: str = "",
    read_as: tuple[str, ...] = (),
) -> HsCode:
    """The code with its HS levels; levels the digits are too short for are ''.
    Built from values valid by construction (a line costs one per distinct code)."""
    return trusted(
        HsCode,
        {
            "declared": declared,
            "digits": digits,
            "hs2": digits[:2] if len(digits) >= 2 else "",
            "hs4": digits[:4] if len(digits) >= 4 else "",
            "hs6": digits[:6] if len(digits) >= 6 else "",
            "status": status,
            "version": version,
            "read_as": tuple(read_as),
            "others": (),
        },
    )


class HsReader:
    """Tables built once: the HS 2022 subheadings and the correlation of older vintages."""

    def __init__(self, hs2022: frozenset[str], correlation: HsCorrelation) -> None:
        self.hs2022 = hs2022
        self.correlation = correlation
        self._cache: dict[str, HsCode] = {}

    def __call__(self, declared: str) -> HsCode:
        found = self._cache.get(declared)
        if found is None:
            found = self._read(declared)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[declared] = found
        return found

    def _read(self, declared: str) -> HsCode:
        text = declared.strip()
        if text.isdigit() and text.isascii():  # one code, nothing to split (most lines)
            return self._one(declared, text)
        parts = [p for p in _SEPARATOR.split(text) if p] if text else []
        codes = [code_digits(p) for p in parts]
        codes = [c for c in codes if len(c) >= 4]
        if len(codes) >= 2:
            first = self._one(declared, codes[0])
            return first.model_copy(update={"status": "several", "others": tuple(codes[1:])})
        digits = code_digits(text)  # one code, whatever punctuation it carries
        return self._one(declared, digits)

    def _one(self, declared: str, digits: str) -> HsCode:
        if not digits:
            return hs_levels(declared, "", "missing")
        if len(digits) < 2 or not digits.strip("0"):
            return hs_levels(declared, "", "unreadable")
        if len(digits) in (5, 9) and digits.zfill(len(digits) + 1)[:6] in self.hs2022:
            digits = digits.zfill(len(digits) + 1)
        if len(digits) < 4:
            return hs_levels(declared, digits[:2], "chapter_only")
        if len(digits) < 6:
            return hs_levels(declared, digits[:4], "heading_only")
        hs6 = digits[:6]
        older = self.correlation.get(hs6)
        if hs6 in self.hs2022:
            status: HsCodeStatus = "valid" if len(digits) == 6 else "national"
            # Still a code, but part of it moved (8802.20: drones went to 8806 in 2022).
            moved = older[1] if older is not None else ()
            return hs_levels(declared, digits, status, CURRENT, read_as=moved)
        if older is not None:
            vintage, targets = older
            return hs_levels(declared, digits, "older_version", vintage, read_as=targets)
        return hs_levels(declared, digits, "unknown")
