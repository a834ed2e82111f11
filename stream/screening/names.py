"""Party names reduced to comparable Latin tokens, the same way for list entries and queries.

``ООО «Вектор-Снаб»``, ``OOO "VEKTOR-SNAB"`` and ``Vektor Snab, LLC`` all become
``("vektor", "snab")``: transliterated (anyascii; Chinese one pinyin syllable per character),
legal forms removed (rigour's org-type data, then the extra forms in ``screening.yaml``),
punctuation dropped, and each token folded so strict and loose romanisations meet. Words for
the kind of body and what it makes (``org_vocabulary.yaml``) become one concept word in every
language: ``НПО «Алмаз»``, ``Nauchno-Proizvodstvennoe Obedinenie Almaz`` and ``Scientific
and Production Association Almaz`` are all ``("research", "production", "association",
"almaz")``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from anyascii import anyascii
from rapidfuzz.distance import OSA
from rigour.names import remove_org_types

from schemas.rule_data import OrgVocabulary, ScreeningRules
from stream.screening.homoglyphs import repair_homoglyphs

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
    plain: tuple[str, ...] = ()
    """The words before organisation words became concepts (abbreviations made on the
    spot, "PSZ" for "Pribaltiiskii Sudostroitelnyi Zavod", are read from these)."""
    pinyin: tuple[str, ...] = ()
    """For a Latin name made of pinyin syllables alone ("Guangzhou Ousai Keji"), its
    syllable pairs as a Chinese name's ``words`` are, to meet it written in characters."""


def han_words(syllables: tuple[str, ...] | list[str]) -> list[str]:
    """Chinese has no spaces and most words are two characters: compare overlapping pairs,
    so one different character (华信/华兴) changes two units, not one syllable of six."""
    if len(syllables) < 2:
        return list(syllables)
    return [a + b for a, b in pairwise(syllables)]


# What may follow a stem of org_vocabulary.yaml: a Russian (Belarusian, Ukrainian) case or
# gender ending, after an adjective suffix, in folded spelling. Anything longer is another
# word built on the stem ("radiofizika" is not "radio", "voentorg" is not "military").
ORG_MEMO_SIZE = 100_000
"""Words remembered with the concept their stem gives (or none)."""

_STEM_TAIL = re.compile(
    r"(?:icheck|ichesk|esk|sk|n|en|on|ov|ev|in|ist)?"
    r"(?:i|ia|aia|oe|ogo|omu|oi|ie|ih|im|imi|iu|uiu|u|a|e|o|om|ov|ev|am|ami|ah|ei|ii|ae|aga|ai|yia)?"
)


CUT_MEMO_SIZE = 100_000
"""Words remembered with their pinyin syllables (or none)."""

PINYIN_WORD_MAX = 48
"""Letters a word in pinyin may have ("zhongguohangtiankejijituan" is 26)."""

PINYIN_MIN_SYLLABLES = 2
"""Fewer syllables make no pair to compare."""

FUZZY_FORM_WORD_MIN = 5
"""Words of a legal form this long may be a letter off when it leads a name."""

_SHIELD = "qorgq0"  # the digit keeps folds of the marker off the abbreviation


def legal_form_mask(
    tokens: list[str],
    forms: list[tuple[str, ...]],
    starts: set[str],
    shortest: int = 1,
    start: int = 0,
) -> list[bool]:
    """For each token, whether it stays: False inside one of ``forms`` (longest first, of at
    least ``shortest`` tokens, each beginning with a word of ``starts``) or before ``start``."""
    kept = [True] * len(tokens)
    kept[:start] = [False] * start
    i = start
    while i < len(tokens):
        if tokens[i] in starts:
            for form in forms:
                if len(form) >= shortest and tuple(tokens[i : i + len(form)]) == form:
                    kept[i : i + len(form)] = [False] * len(form)
                    i += len(form)
                    break
            else:
                i += 1
        else:
            i += 1
    return kept


def _stripped_by_rigour(abbreviation: str) -> bool:
    return remove_org_types(f"{abbreviation} almaz").split() != [abbreviation, "almaz"]


class OrgWords:
    """Replaces organisation words (folded tokens) by their concept words; see
    ``org_vocabulary.yaml``. A stem covers every ending (:data:`_STEM_TAIL`); the longest
    stem wins. A concept of several words ("machine building") gives them all."""

    def __init__(self, vocabulary: OrgVocabulary | None, fold: Callable[[str], str]) -> None:
        self.exact: dict[str, tuple[str, ...]] = {}
        stems: dict[str, str] = {}
        self.generic: frozenset[str] = frozenset()
        self.shield: re.Pattern[str] | None = None
        self._marker = fold(_SHIELD)
        self.legal_forms: list[tuple[str, ...]] = []
        self._legal_starts: set[str] = set()
        if vocabulary is None:
            self._stems: list[tuple[str, str]] = []
            return
        for concept, variants in vocabulary.concepts.items():
            for variant in variants:
                if variant.endswith("*"):
                    stems.setdefault(fold(variant[:-1]), concept)
                else:
                    self.exact.setdefault(fold(variant), tuple(concept.split(" ")))
        for short, concepts in vocabulary.abbreviations.items():
            self.exact[fold(short)] = tuple(w for c in concepts for w in c.split(" "))
        # rigour's org types read some of these abbreviations as other legal forms ("NPO" a
        # non-profit organisation) and would remove them: they are shielded as marker words
        shielded = [short for short in vocabulary.abbreviations if _stripped_by_rigour(short)]
        self.shield = (
            re.compile(r"\b(" + "|".join(shielded) + r")\b", re.IGNORECASE) if shielded else None
        )
        for short in shielded:
            self.exact[fold(_SHIELD + short)] = self.exact[fold(short)]
        self.legal_forms = sorted(
            (tuple(w for c in form for w in c.split(" ")) for form in vocabulary.legal_forms),
            key=len,
            reverse=True,
        )
        self._legal_starts = {form[0] for form in self.legal_forms}
        for word in vocabulary.dropped:
            self.exact[fold(word)] = ()
        self._stems = sorted(stems.items(), key=lambda item: -len(item[0]))
        self._firsts = {stem[:2] for stem, _ in self._stems}
        # per first two letters of a word, the stems that may start it, longest first
        self._by_firsts = {
            first: [
                (stem, concept)
                for stem, concept in self._stems
                if (stem[:2] == first if len(stem) >= 2 else first.startswith(stem))
            ]
            for first in self._firsts
        }
        self._memo: dict[str, tuple[str, ...] | None] = {}
        self.generic = vocabulary.concept_words

    def _concepts(self, token: str) -> tuple[str, ...] | None:
        found = self.exact.get(token)
        if found is not None:
            return found
        if token[:2] not in self._firsts:
            return None
        memo = self._memo.get(token, ())
        if memo != ():
            return memo
        result: tuple[str, ...] | None = None
        for stem, concept in self._by_firsts[token[:2]]:
            if token.startswith(stem) and _STEM_TAIL.fullmatch(token, len(stem)):
                result = tuple(concept.split(" "))
                break
        if len(self._memo) < ORG_MEMO_SIZE:
            self._memo[token] = result
        return result

    def __call__(self, tokens: list[str]) -> list[str]:
        if not self._stems and not self.exact:
            return tokens
        out: list[str] = []
        for token in tokens:
            concepts = self._concepts(token)
            if concepts is None:
                out.append(token)
                continue
            for concept in concepts:
                if not out or out[-1] != concept:
                    out.append(concept)
        if not self.legal_forms:
            return out
        kept = legal_form_mask(out, self.legal_forms, self._legal_starts)
        return [w for w, keep in zip(out, kept, strict=True) if keep]

    def shielded(self, text: str) -> str:
        """``text`` with the abbreviations rigour would remove written as marker words."""
        if self.shield is None:
            return text
        return self.shield.sub(lambda m: _SHIELD + m.group(1).lower(), text)

    def unshielded(self, tokens: list[str]) -> list[str]:
        """The tokens with marker words back as the abbreviations they stand for."""
        if self.shield is None:
            return tokens
        marker = self._marker
        return [t[len(marker) :] if t.startswith(marker) else t for t in tokens]


class NameNormaliser:
    """Turns any party name into a :class:`NameForm`; memoises folded tokens."""

    def __init__(self, rules: ScreeningRules) -> None:
        self._folds = [(re.compile(pattern), repl) for pattern, repl in rules.folds]
        # a word no fold applies to stays as it is: searched for all the folds at once
        # (those with groups, which a back-reference may mean, each on its own) instead of
        # substituting every fold
        plain = [pattern.pattern for pattern, _ in self._folds if not pattern.groups]
        self._foldable = [pattern for pattern, _ in self._folds if pattern.groups]
        if plain:
            self._foldable.insert(0, re.compile("|".join(f"(?:{p})" for p in plain)))
        self._folded: dict[str, str] = {}
        self._pinyin = rules.pinyin_syllables
        self._pinyin_longest = max((len(s) for s in self._pinyin), default=0)
        self._cuts: dict[str, tuple[str, ...] | None] = {}
        self._romanised = (
            str.maketrans(dict(rules.romanised_letters)) if rules.romanised_letters else None
        )
        self.org_words = OrgWords(rules.organisation, self.fold)
        self.legal_forms = sorted(
            {tuple(self.fold(t) for t in form) for form in rules.legal_forms},
            key=len,
            reverse=True,
        )
        self._legal_starts = {form[0] for form in self.legal_forms}
        self._long_forms = [
            form
            for form in self.legal_forms
            if len(form) > 1 and len(form[0]) >= FUZZY_FORM_WORD_MIN
        ]
        # per length of a name's first word, the long forms whose first word is a letter
        # off at most in length, in order
        self._long_forms_by_length: dict[int, list[tuple[str, ...]]] = {}
        for form in self._long_forms:
            for size in (len(form[0]) - 1, len(form[0]), len(form[0]) + 1):
                self._long_forms_by_length.setdefault(size, []).append(form)
        self.generic_words = (
            frozenset(self.fold(w) for w in rules.generic_words) | self.org_words.generic
        )
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
            if any(pattern.search(token) for pattern in self._foldable):
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
            text = repair_homoglyphs(text.casefold())
            if self._romanised is not None:
                text = text.translate(self._romanised)
            text = anyascii(text)
        return _APOSTROPHES.sub("", text).lower(), han

    def _spelled_form_length(self, tokens: list[str]) -> int:
        """How many leading tokens spell a legal form of several words with a letter off in
        its long words ("Obscestvo s ogranicennoi..." as lossy Romanisations write it)."""
        first = tokens[0]
        if len(first) < FUZZY_FORM_WORD_MIN - 1:
            return 0
        for form in self._long_forms_by_length.get(len(first), ()):
            if len(form) > len(tokens):
                continue
            if all(
                t == f
                or (len(f) >= FUZZY_FORM_WORD_MIN and OSA.distance(t, f, score_cutoff=1) <= 1)
                for t, f in zip(tokens, form, strict=False)
            ):
                return len(form)
        return 0

    def _strip_legal_forms(self, tokens: list[str], syllables: bool = False) -> list[str]:
        """``tokens`` without legal forms; of ``syllables`` (a Chinese name's) only forms of
        several syllables go ("ou" is the Estonian OÜ in Latin names but 欧 in Chinese)."""
        return [t for t, keep in zip(tokens, self._kept(tokens, syllables), strict=True) if keep]

    def _kept(self, tokens: list[str], syllables: bool = False) -> list[bool]:
        """For each token, whether it stays: False inside a legal form."""
        spelled = 0
        if tokens and tokens[0] not in self._legal_starts and not syllables:
            spelled = self._spelled_form_length(tokens)
        return legal_form_mask(
            tokens, self.legal_forms, self._legal_starts, 2 if syllables else 1, spelled
        )

    def __call__(self, name: str) -> NameForm:
        text, han = self.latin(name)
        plain: list[str] = []
        # rigour's org types are Latin-script forms: on a Chinese name's syllables they would
        # take "yu" (玉) for one; the Chinese forms are in screening.yaml
        shielded = self.org_words.shielded(text)
        written = _TOKEN.findall(shielded if han else remove_org_types(shielded))
        folded = [self.fold(t) for t in written]
        kept = self._kept(folded, syllables=han)
        tokens = [t for t, keep in zip(folded, kept, strict=True) if keep]
        written = [t for t, keep in zip(written, kept, strict=True) if keep]
        if not tokens:  # a name that is only a legal form stays what it is
            written = _TOKEN.findall(shielded)
            tokens = [self.fold(t) for t in written]
        pinyin: list[str] = []
        if han:
            words = self._pairs(tokens)
        else:
            syllables = self._syllables_of(written)
            if syllables is not None and len(syllables) >= PINYIN_MIN_SYLLABLES:
                pinyin = self._pairs(syllables)
            plain = [self.equivalents.get(t, t) for t in self.org_words.unshielded(tokens)]
            tokens = self.org_words(list(plain)) or plain
            words = tokens
        compact = "".join(tokens)
        keys = set(words)
        keys.add("=" + compact)
        for token in words:
            # a typo leaves the start or the end of a long word intact
            if len(token) >= TYPO_KEY_MIN_LENGTH:
                keys.add(token[:4] + "<")
                keys.add(">" + token[-4:])
        return NameForm(
            tuple(tokens),
            tuple(words),
            frozenset(keys),
            compact,
            han,
            tuple(plain) if not han else (),
            tuple(pinyin),
        )

    def _pairs(self, syllables: list[str]) -> list[str]:
        """Syllable pairs, folded again as one word ("xiang" + "gang" is "xiangang", as the
        written word "Xianggang" folds), then translated (``dianzi`` → electronics)."""
        return [self.equivalents.get(w, w) for w in map(self.fold, han_words(syllables))]

    def _syllables_of(self, written: list[str]) -> list[str] | None:
        """The words as written (not folded: "xianggang" is "xiang gang", "xiangang" would
        be "xiang ang") cut into pinyin syllables, then folded, legal forms ("youxian
        gongsi") removed; None when a word is no run of syllables."""
        if not self._pinyin:
            return None
        syllables: list[str] = []
        for word in written:
            cut = self._cut(word)
            if cut is None:
                return None
            syllables.extend(self.fold(syllable) for syllable in cut)
        return self._strip_legal_forms(syllables, syllables=True)

    def _cut(self, token: str) -> tuple[str, ...] | None:
        """``token`` as a run of pinyin syllables, the longest first where the rest still
        cuts; remembered per token. Linear in the token (no backtracking to blow up on
        "xianxian…q"), and a word longer than any name's gives None."""
        if token in self._cuts:
            return self._cuts[token]
        found: tuple[str, ...] | None = None
        size = len(token)
        if size <= PINYIN_WORD_MAX:
            # after[i]: where the syllable starting at i ends, on a cut of token[i:]
            after = [-1] * (size + 1)
            after[size] = size
            for start in range(size - 1, -1, -1):
                for end in range(min(size, start + self._pinyin_longest), start, -1):
                    if after[end] >= 0 and token[start:end] in self._pinyin:
                        after[start] = end
                        break
            if after[0] >= 0:
                cut: list[str] = []
                at = 0
                while at < size:
                    cut.append(token[at : after[at]])
                    at = after[at]
                found = tuple(cut)
        if len(self._cuts) < CUT_MEMO_SIZE:
            self._cuts[token] = found
        return found
