"""Text normalisation and tokenisation shared by the lexicon (at load) and classify (per line).

``normalise_text``: Unicode NFKC, case-folding, apostrophes inside words dropped, Cyrillic /
Latin homoglyphs repaired inside mixed-script words (``бронежилeт`` with a Latin ``e``),
white space collapsed (traditional Chinese is met by the lexicon, whose Chinese terms are
keys in their traditional spellings too). Lengths can change, so evidence positions refer to
the normalised text; the original stays on the line verbatim.

``Tokens``: word spans of the normalised text and their stems (Snowball Russian stemmer for
Cyrillic words, English for Latin ones; digits and Han characters as they are), joined with
single spaces so that a term lookup is a substring search over one string. A run of Han
characters is a word of its own, apart from Latin letters and digits written against it
(``采用U-BLOX NEO-6M模组``, ``的MCU``): Chinese has no spaces, the Latin part still names terms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import accumulate

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
# A Latin letter next to a Cyrillic one. Written to start with a Latin letter (the engine
# skips ahead to those) and look either side: three times faster than two alternatives.
_MIXED_PAIR = re.compile(r"[a-z](?:(?=[\u0400-\u04ff])|(?<=[\u0400-\u04ff][a-z]))")
_APOSTROPHE = re.compile(r"(?<=\w)['\u2019\u02bc`](?=\w)")
_WORD = re.compile(r"\w+")
_WORDS_AND_GAPS = re.compile(r"(\w+)")
_HAN = "\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_HAS_HAN = re.compile(f"[{_HAN}]")
_HIGH = re.compile("[\u2e80-\U0010ffff]")
# Outside ASCII: a run of Han characters, or a run of other word characters.
_WORDS_AND_GAPS_CJK = re.compile(f"([{_HAN}]+|[^\\W{_HAN}]+)")
_last_han: tuple[str, bool] = ("", False)
"""The last non-ASCII text normalise_text returned and whether it holds Han characters:
Tokens.of, called on it next, need not search it again."""


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
    global _last_han  # a one-entry memo for Tokens.of
    # NFKC leaves ASCII as it is.
    folded = (text if text.isascii() else unicodedata.normalize("NFKC", text)).casefold()
    if "'" in folded or "\u2019" in folded or "\u02bc" in folded or "`" in folded:
        folded = _APOSTROPHE.sub("", folded)
    if folded.isascii():
        return " ".join(folded.split())
    # Cheap single-class searches first: the mixed-script test (two alternatives at every
    # position) runs only on Cyrillic texts, the Han ones only past U+2E80.
    if _HAS_CYRILLIC.search(folded) and _MIXED_PAIR.search(folded):
        folded = _MIXED_WORD.sub(_repair_word, folded)
    han = _HIGH.search(folded) is not None and _HAS_HAN.search(folded) is not None
    result = " ".join(folded.split())
    _last_han = (result, han)
    return result


def has_han(normalised: str) -> bool:
    """Does a normalised text hold Han characters? (Remembered for the last text
    normalise_text returned, which is the one asked about on the hot path.)"""
    if normalised.isascii():
        return False
    if normalised is _last_han[0]:
        return _last_han[1]
    return _HAS_HAN.search(normalised) is not None


STEM_CACHE_SIZE = 200_000
_STEMS: dict[str, str] = {}
"""Word → stem for the hot path: a plain dict lookup costs less than an lru_cache call;
once full, new words are stemmed each time (feeds reuse a bounded vocabulary)."""


def _stem_word(word: str) -> str:
    if word.isascii():
        return str(_ENGLISH.stemWord(word)) if word.isalpha() else word
    if _HAS_CYRILLIC.search(word):
        return str(_RUSSIAN.stemWord(word))
    return word


stem = lru_cache(maxsize=200_000)(_stem_word)


def _learn(word: str) -> str:
    """Stem an unseen word and remember it; numbers and part numbers (ASCII with a digit)
    are their own stems and are not remembered, so an endless stream of article numbers
    cannot fill the cache."""
    if word.isascii() and not word.isalpha():
        return word
    found = _stem_word(word)
    if len(_STEMS) < STEM_CACHE_SIZE:
        _STEMS[word] = found
    return found


class Tokens:
    """The stems of a normalised text joined as ``' s1 s2 ... '``, and the way back from a
    position in that string to the words' span in the text.

    Splitting, stemming (a dict per word, Snowball only for an unseen word) and the joins
    run in C; the positions are worked out only when a match asks for them (most lines
    with no term never do).
    """

    __slots__ = ("_parts", "_starts", "stem_list", "stems")

    def __init__(self, parts: list[str], stem_list: list[str]) -> None:
        self._parts = parts  # words at odd indexes, the gaps between them at even ones
        self.stem_list = stem_list
        self.stems = " " + " ".join(stem_list) + " "
        self._starts: list[int] | None = None

    @classmethod
    def of(cls, normalised: str) -> Tokens:
        # Without a Han character both splitters cut the same words; \w+ is the faster.
        splitter = _WORDS_AND_GAPS_CJK if has_han(normalised) else _WORDS_AND_GAPS
        parts = splitter.split(normalised)
        get = _STEMS.get
        return cls(parts, [get(word) or _learn(word) for word in parts[1::2]])

    def part_starts(self) -> list[int]:
        """Where each part (gap, word, gap, ...) starts in the text: word ``i`` is
        ``starts[2i + 1]:starts[2i + 2]``. Worked out on first use."""
        if self._starts is None:
            self._starts = list(accumulate(map(len, self._parts), initial=0))
        return self._starts

    @property
    def spans(self) -> list[tuple[int, int]]:
        starts = self.part_starts()
        return list(zip(starts[1:-1:2], starts[2::2], strict=True))

    def span_of(self, start: int, end: int) -> tuple[int, int]:
        """Text span covered by the stems between ``start`` (the first stem's first
        character in ``stems``) and ``end`` (inclusive): the stems before a position are
        the spaces before it, less the leading one."""
        starts = self.part_starts()
        count = self.stems.count
        return starts[2 * count(" ", 0, start) - 1], starts[2 * count(" ", 0, end)]
