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

    ``tokens`` are the folded words in order (for Chinese, pinyin syllables); ``words`` the
    units compared word by word (the tokens, or for Chinese, syllable pairs), with
    translations (``dianzi`` → ``electronics``) applied; ``keys`` the blocking keys used to find
    candidates (tokens, the whole compact name, the first and last four letters of long
    words, and for Chinese, joined syllable pairs);
    ``compact`` the tokens joined without spaces.
    """

    tokens: tuple[str, ...]
    words: tuple[str, ...]
    keys: frozenset[str]
    compact: str
    han: bool


def han_words(syllables: tuple[str, ...] | list[str]) -> list[str]:
    """Chinese has no spaces and most words are two characters: compare overlapping pairs,
    so one different character (华信/华兴) changes two units, not one syllable of six."""
    if len(syllables) < 2:
        return list(syllables)
    return [a + b for a, b in pairwise(syllables)]


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
        self.equivalents = {
            self.fold(variant): self.fold(canonical)
            for canonical, variants in rules.equivalents.items()
            for variant in variants
        }

    def forget(self) -> None:
        """Drop the memo of folded words (benchmarks measure cold)."""
        self._folded.clear()

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
        tokens = self._strip_legal_forms(
            [self.fold(t) for t in _TOKEN.findall(remove_org_types(text))]
        )
        if not tokens:  # a name that is only a legal form stays what it is
            tokens = [self.fold(t) for t in _TOKEN.findall(text)]
        if han:
            words = [self.equivalents.get(w, w) for w in han_words(tokens)]
        else:
            tokens = [self.equivalents.get(t, t) for t in tokens]
            words = tokens
        compact = "".join(tokens)
        keys = set(words)
        keys.add("=" + compact)
        for token in words:
            # a typo leaves the start or the end of a long word intact
            if len(token) >= TYPO_KEY_MIN_LENGTH:
                keys.add(token[:4] + "<")
                keys.add(">" + token[-4:])
        return NameForm(tuple(tokens), tuple(words), frozenset(keys), compact, han)
