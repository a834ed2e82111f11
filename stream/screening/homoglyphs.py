"""Cyrillic and Latin look-alike letters inside one word, repaired.

Feeds and lists type Cyrillic words with a Latin ``e``, ``c`` or ``p`` (``бронежилeт``,
``Cepвиc``): such a word is written in one script again, where the letters of the other are
all look-alikes. Shared by the description text (``stream.stages.text``) and party names
(``stream.screening.names``).
"""

from __future__ import annotations

import re

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


def _repair_word(match: re.Match[str]) -> str:
    word = match.group(0)
    latin = len(_HAS_LATIN.findall(word))
    cyrillic = len(_HAS_CYRILLIC.findall(word))
    if not latin or not cyrillic:
        return word
    # the script of most letters first; then the other, when only its look-alikes were used
    # ("cepвиc": four Latin letters, all look-alikes, and two Cyrillic ones that are not)
    as_cyrillic = word.translate(_TO_CYRILLIC)
    as_latin = word.translate(_TO_LATIN)
    tries = [(as_cyrillic, _HAS_LATIN), (as_latin, _HAS_CYRILLIC)]
    for repaired, other in tries if cyrillic >= latin else tries[::-1]:
        if not other.search(repaired):
            return repaired
    return word


def repair_homoglyphs(folded: str) -> str:
    """Case-folded text with each mixed-script word written in one script, where the letters
    of the other are look-alikes ("cepвиc" is "сервис")."""
    if _HAS_CYRILLIC.search(folded) and _MIXED_PAIR.search(folded):
        return _MIXED_WORD.sub(_repair_word, folded)
    return folded
