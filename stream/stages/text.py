"""Text normalisation and tokenisation shared by the lexicon (at load) and classify (per line).

``normalise_text``: Unicode NFKC, case-folding, apostrophes inside words dropped, Cyrillic /
Latin homoglyphs repaired inside mixed-script words (``бронежилeт`` with a Latin ``e``),
white space collapsed. Lengths can change, so evidence positions refer to the normalised
text; the original stays on the line verbatim.

``Tokens``: word spans of the normalised text and their stems (Snowball Russian stemmer for
Cyrillic words, English for Latin ones; digits and Han characters as they are), joined with
single spaces so that a term lookup is a substring search over one string.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

_RUSSIAN = Stemmer.Stemmer("russian")
_ENGLISH = Stemmer.Stemmer("english")

# Letters that look alike in the two scripts (after case-folding).
_LATIN = "aceopxykmthbi"
_CYRILLIC = "асеорхукмтнві"
_TO_CYRILLIC = str.maketrans(_LATIN, _CYRILLIC)
_TO_LATIN = str.maketrans(_CYRILLIC, _LATIN)
_HAS_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_HAS_LATIN = re.compile(r"[a-z]")
# A word with a Latin letter next to a Cyrillic one: the only words worth repairing.
_MIXED_WORD = re.compile(r"[^\W\d_]*(?:[a-z][\u0400-\u04ff]|[\u0400-\u04ff][a-z])[^\W\d_]*")
_APOSTROPHE = re.compile(r"(?<=\w)['\u2019\u02bc`](?=\w)")
_WORD = re.compile(r"\w+")


def _repair_word(match: re.Match[str]) -> str:
    word = match.group(0)
    latin = len(_HAS_LATIN.findall(word))
    cyrillic = len(_HAS_CYRILLIC.findall(word))
    if not latin or not cyrillic:
        return word
    if cyrillic >= latin:
        repaired = word.translate(_TO_CYRILLIC)
        return repaired if not _HAS_LATIN.search(repaired) else word
    repaired = word.translate(_TO_LATIN)
    return repaired if not _HAS_CYRILLIC.search(repaired) else word


def normalise_text(text: str) -> str:
    # NFKC leaves ASCII as it is.
    folded = (text if text.isascii() else unicodedata.normalize("NFKC", text)).casefold()
    if "'" in folded or "\u2019" in folded or "\u02bc" in folded or "`" in folded:
        folded = _APOSTROPHE.sub("", folded)
    if _HAS_CYRILLIC.search(folded) and _HAS_LATIN.search(folded):
        folded = _MIXED_WORD.sub(_repair_word, folded)
    return " ".join(folded.split())


STEM_CACHE_SIZE = 200_000
_STEMS: dict[str, str] = {}
"""Word → stem for the hot path: a plain dict lookup costs less than an lru_cache call;
once full, new words are stemmed each time (feeds reuse a bounded vocabulary)."""


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    if _HAS_CYRILLIC.search(word):
        return str(_RUSSIAN.stemWord(word))
    if word.isascii() and word.isalpha():
        return str(_ENGLISH.stemWord(word))
    return word


@dataclass(frozen=True, slots=True)
class Tokens:
    """Word spans of a normalised text and the space-joined stem string ``' s1 s2 ... '``."""

    spans: tuple[tuple[int, int], ...]
    stems: str
    offsets: tuple[int, ...]  # where each stem starts in ``stems``

    @classmethod
    def of(cls, normalised: str) -> Tokens:
        matches = list(_WORD.finditer(normalised))
        known = _STEMS
        stems = []
        offsets = []
        position = 1
        for match in matches:
            word = match.group(0)
            word_stem = known.get(word)
            if word_stem is None:
                word_stem = stem(word)
                if len(known) < STEM_CACHE_SIZE:
                    known[word] = word_stem
            stems.append(word_stem)
            offsets.append(position)
            position += len(word_stem) + 1
        return cls(tuple(m.span() for m in matches), " " + " ".join(stems) + " ", tuple(offsets))

    def span_of(self, start: int, end: int) -> tuple[int, int]:
        """Text span covered by the stems between ``start`` and ``end`` (inclusive)."""
        first = bisect_right(self.offsets, start) - 1
        last = bisect_right(self.offsets, end) - 1
        first = max(first, 0)
        return self.spans[first][0], self.spans[max(last, first)][1]
