"""The multilingual lexicon compiled into two Aho-Corasick automata; one scan per description.

Terms from ``schemas/rules/lexicon.yaml`` are normalised and stemmed exactly like the
descriptions (:mod:`stream.stages.text`). Cyrillic and Latin terms become keys over the
space-joined stem string (``' бронежилет '`` for a whole word, ``' тепловиз'`` for a prefix
term ``тепловиз*``); Chinese terms are keys over the normalised text itself. Scanning costs
O(text length + matches), whatever the number of terms.

Product models (``schemas/rules/product_models.yaml``: ``Mavic 3T``, ``Thermion 2 XP50``)
are patterns read as strong terms of each of their categories; their hits carry the
language ``model`` and the line's name, so the evidence says a model decided.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

import ahocorasick

from schemas.enriched import Category
from schemas.rule_data import LexiconCategory, ProductModel, zh_traditional_table
from stream.stages.text import Tokens, has_han, normalise_text, stem

Role = Literal["strong", "weak", "qualifiers", "negative"]
ROLES: tuple[Role, ...] = ("strong", "weak", "qualifiers", "negative")


@dataclass(frozen=True, slots=True)
class Term:
    category: Category
    role: Role
    language: str
    term: str


class Hit(NamedTuple):
    term: Term
    start: int  # span in the normalised text
    end: int


_LATIN_WORDS = re.compile(r"[a-z0-9 ]+")


def _hit(fields: tuple[Term, int, int]) -> Hit:
    # The tuple constructor skips NamedTuple's Python-level __new__ (the scan's hot path).
    return tuple.__new__(Hit, fields)


def _checked(text: str) -> bool:
    return not text.endswith("*") and _LATIN_WORDS.fullmatch(text) is not None


def _typed_forms(text: str) -> frozenset[str]:
    """A whole-word English term's own words and their plurals (``air gun``, ``air guns``)."""
    forms = [""]
    for word in text.split():
        forms = [
            f"{head} {form}".strip() for head in forms for form in (word, word + "s", word + "es")
        ]
    return frozenset(forms)


def _as_typed(term: Term, matched: str, forms: dict[str, frozenset[str]]) -> bool:
    """A whole-word English negative matches its own word or plural only, not every word
    sharing its stem: ``programmer`` (a device programmer) must not cancel ``programmable``
    logic, though both stem to ``programm``. ``forms`` holds the checked terms' forms."""
    typed = forms.get(term.term)
    if typed is None:
        return True
    found = matched.split()
    if len(found) != term.term.count(" ") + 1:
        return True
    return " ".join(found) in typed


def _traditional_forms() -> dict[str, str]:
    """Simplified character → itself and its traditional spellings (``弹`` → ``弹彈``)."""
    forms: dict[str, str] = {}
    for old, new in zh_traditional_table().items():
        forms[chr(new)] = forms.get(chr(new), chr(new)) + chr(old)
    return forms


_TRADITIONAL_FORMS = _traditional_forms()
_MAX_SPELLINGS = 64


def _zh_keys(term: str) -> list[str]:
    """A Chinese term and its spellings in traditional characters (``防弹陶瓷``, ``防彈陶瓷``):
    texts are matched as written, so a traditional text costs nothing extra per line."""
    keys = [""]
    for char in normalise_text(term):
        options = _TRADITIONAL_FORMS.get(char, char)
        keys = [key + option for key in keys for option in options]
        if len(keys) > _MAX_SPELLINGS:  # keep the term's own spelling, drop the rest
            return [normalise_text(term)]
    return keys


def _token_keys(term: str) -> set[str]:
    """Keys of a Latin/Cyrillic term: its words stemmed, and its words as typed.

    Terms may be written as full words (``ночного видения``) or as stems already
    (``баллистическ``); stemming a stem can cut it further (``виден`` → ``вид``), so both
    spellings become keys and either matches the stemmed description.
    """
    prefix = term.endswith("*")
    typed = normalise_text(term.rstrip("*")).split()
    stems = Tokens.of(" ".join(typed)).stems.split()
    if not stems:
        return set()
    keys = set()
    for words in (stems, typed):
        if prefix:
            last = typed[-1]
            stemmed = stem(last)
            last = stemmed if last.startswith(stemmed) and len(stemmed) >= 4 else last
            keys.add(" " + " ".join([*words[:-1], last]))
        else:
            keys.add(" " + " ".join(words) + " ")
    return keys


MODEL = "model"
"""The language of a product-model hit (``Term.language``)."""


class Lexicon:
    def __init__(
        self,
        categories: Mapping[Category, LexiconCategory],
        models: Iterable[ProductModel] = (),
    ) -> None:
        self._tokens = ahocorasick.Automaton()
        self._raw = ahocorasick.Automaton()
        token_entries: dict[str, list[Term]] = {}
        raw_entries: dict[str, list[Term]] = {}
        for category, table in categories.items():
            for role in ROLES:
                for language, terms in getattr(table, role).items():
                    for text in terms:
                        term = Term(category, role, language, text)
                        if language == "zh":
                            for key in _zh_keys(text):
                                raw_entries.setdefault(key, []).append(term)
                        else:
                            for token_key in _token_keys(text):
                                token_entries.setdefault(token_key, []).append(term)
        # A product model: one pattern, a strong term of each of its categories, tried when a
        # word of the text starts with one of its required strings (found by the term scan).
        self._models: list[tuple[re.Pattern[str], tuple[Term, ...]]] = []
        model_keys: dict[str, set[int]] = {}
        for index, model in enumerate(models):
            terms_of_model = tuple(
                Term(category, "strong", MODEL, model.name) for category in model.categories
            )
            self._models.append((re.compile(model.pattern), terms_of_model))
            for literal in model.requires:
                for key in _token_keys(literal + "*"):
                    model_keys.setdefault(key, set()).add(index)
        self._forms: dict[str, frozenset[str]] = {}
        for key in token_entries.keys() | model_keys.keys():
            entries = token_entries.get(key, [])
            # Whether a hit needs the typed-word check of an English negative (rare).
            checked = any(t.role == "negative" and _checked(t.term) for t in entries)
            for term in entries:
                if term.role == "negative" and _checked(term.term):
                    self._forms[term.term] = _typed_forms(term.term)
            # The third field: False (plain terms), True (an English negative to check as
            # typed) or the product models the key triggers (their terms checked as typed).
            triggers = frozenset(model_keys.get(key, ()))
            mode: bool | frozenset[int] = triggers or checked
            self._tokens.add_word(key, (len(key), tuple(entries), mode))
        for key, entries in raw_entries.items():
            self._raw.add_word(key, (len(key), tuple(entries)))
        self._tokens.make_automaton()
        self._raw.make_automaton()
        # Named patterns (wavebands), each tried only when one of its required strings is in
        # the text.
        self._patterns = [
            (tuple(spec.requires), re.compile(spec.pattern), Term(category, role, "pattern", name))
            for category, table in categories.items()
            for role, named in table.patterns.items()
            for name, spec in named.items()
        ]
        self.size = (
            sum(len(v) for v in token_entries.values())
            + sum(len(v) for v in raw_entries.values())
            + len(self._patterns)
            + len(self._models)
        )

    def scan(self, normalised: str, tokens: Tokens) -> list[Hit]:
        hits: list[Hit] = []
        stems = tokens.stems
        count = stems.count
        starts: list[int] | None = None
        new = tuple.__new__
        wanted: set[int] | None = None
        for end, (length, terms, mode) in self._tokens.iter(stems):
            if mode and mode is not True:
                wanted = set(mode) if wanted is None else wanted | mode
                if not terms:
                    continue
            # Inlined Tokens.span_of: the hot loop of a line.
            if starts is None:
                starts = tokens.part_starts()
            start = starts[2 * count(" ", 0, end - length + 2) - 1]
            stop = starts[2 * count(" ", 0, end)]
            if not mode:
                hits.extend([new(Hit, (term, start, stop)) for term in terms])
                continue
            hits.extend(
                _hit((term, start, stop))
                for term in terms
                if term.role != "negative" or _as_typed(term, normalised[start:stop], self._forms)
            )
        if not normalised.isascii() and has_han(normalised):
            for end, (length, terms) in self._raw.iter(normalised):
                hits.extend(_hit((term, end - length + 1, end + 1)) for term in terms)
        for requires, pattern, term in self._patterns:
            for literal in requires:
                if literal in normalised:
                    for m in pattern.finditer(normalised):
                        hits.append(new(Hit, (term, m.start(), m.end())))
                    break
        if wanted:
            for index in sorted(wanted):
                pattern, model_terms = self._models[index]
                for m in pattern.finditer(normalised):
                    hits.extend(new(Hit, (t, m.start(), m.end())) for t in model_terms)
        return hits


def by_category(hits: Iterable[Hit]) -> dict[Category, dict[Role, list[Hit]]]:
    out: dict[Category, dict[Role, list[Hit]]] = {}
    for hit in hits:
        out.setdefault(hit.term.category, {}).setdefault(hit.term.role, []).append(hit)
    return out
