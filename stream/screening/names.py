"""Party names reduced to comparable Latin tokens, the same way for list entries and queries.

``ООО «Вектор-Снаб»``, ``OOO "VEKTOR-SNAB"`` and ``Vektor Snab, LLC`` all become
``("vektor", "snab")``: transliterated (anyascii; Chinese one pinyin syllable per character),
legal forms removed (rigour's org-type data, then the extra forms in ``screening.yaml``),
punctuation dropped, and each token folded so strict and loose romanisations meet.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

from anyascii import anyascii
from rigour.names import remove_org_types

from schemas.rule_data import ScreeningRules

_HAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")
_TOKEN = re.compile(r"[a-z0-9]+")
_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
TYPO_KEY_MIN_LENGTH = 7


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name ready for comparison.

    ``tokens`` are the folded words in order; ``keys`` the blocking keys used to find
    candidates (tokens, the whole compact name, the first and last four letters of long
    words, and for Chinese, joined syllable pairs);
    ``compact`` the tokens joined without spaces.
    """

    tokens: tuple[str, ...]
    keys: frozenset[str]
    compact: str
    han: bool


class NameNormaliser:
    """Turns any party name into a :class:`NameForm`; memoises folded tokens."""

    def __init__(self, rules: ScreeningRules) -> None:
        self._folds = [(re.compile(pattern), repl) for pattern, repl in rules.folds]
        self._folded: dict[str, str] = {}
        self.legal_forms = sorted(
            {tuple(self.fold(t) for t in form) for form in rules.legal_forms},
            key=len,
            reverse=True,
        )
        self._legal_starts = {form[0] for form in self.legal_forms}
        self.generic_words = frozenset(self.fold(w) for w in rules.generic_words)

    def fold(self, token: str) -> str:
        folded = self._folded.get(token)
        if folded is None:
            folded = token
            for pattern, repl in self._folds:
                folded = pattern.sub(repl, folded)
            if len(self._folded) < 1_000_000:
                self._folded[token] = folded
        return folded

    def latin(self, name: str) -> tuple[str, bool]:
        """Lower-case Latin text, and whether the name had Chinese characters."""
        text = unicodedata.normalize("NFKC", name)
        han = _HAN.search(text) is not None
        if han:
            text = _HAN.sub(r" \1 ", text)
        if not text.isascii():
            text = anyascii(text)
        return _APOSTROPHES.sub("", text).lower(), han

    def _strip_legal_forms(self, tokens: list[str]) -> list[str]:
        kept: list[str] = []
        i = 0
        while i < len(tokens):
            if tokens[i] in self._legal_starts:
                for form in self.legal_forms:
                    if tuple(tokens[i : i + len(form)]) == form:
                        i += len(form)
                        break
                else:
                    kept.append(tokens[i])
                    i += 1
            else:
                kept.append(tokens[i])
                i += 1
        return kept

    def __call__(self, name: str) -> NameForm:
        text, han = self.latin(name)
        all_tokens = [self.fold(t) for t in _TOKEN.findall(text)]
        tokens = self._strip_legal_forms(
            [self.fold(t) for t in _TOKEN.findall(remove_org_types(text))]
        )
        if not tokens:  # a name that is only a legal form ("Trade LLC" minus "trade"?) stays
            tokens = all_tokens
        compact = "".join(tokens)
        keys = set(tokens)
        keys.add("=" + compact)
        if han:
            keys.update(a + b for a, b in pairwise(tokens))
        for token in tokens:
            # a typo leaves the start or the end of a long word intact
            if len(token) >= TYPO_KEY_MIN_LENGTH:
                keys.add(token[:4] + "<")
                keys.add(">" + token[-4:])
        return NameForm(tuple(tokens), frozenset(keys), compact, han)
