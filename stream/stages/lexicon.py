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
from schemas.rule_data import LexiconCategory, ProductModel
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
                            key = normalise_text(text)
                            raw_entries.setdefault(key, []).append(term)
                        else:
                            for token_key in _token_keys(text):
                                token_entries.setdefault(token_key, []).append(term)
        self._forms: dict[str, frozenset[str]] = {}
        for key, entries in token_entries.items():
            # Whether a hit needs the typed-word check of an English negative (rare).
            checked = any(t.role == "negative" and _checked(t.term) for t in entries)
            for term in entries:
                if term.role == "negative" and _checked(term.term):
                    self._forms[term.term] = _typed_forms(term.term)
            self._tokens.add_word(key, (len(key), tuple(entries), checked))
        for key, entries in raw_entries.items():
            self._raw.add_word(key, (len(key), tuple(entries)))
        self._tokens.make_automaton()
        self._raw.make_automaton()
        # Named patterns (wavebands) and product models, each tried only when one of its
        # required strings is in the text: one Aho-Corasick pass finds which.
        patterns: list[tuple[re.Pattern[str], tuple[Term, ...]]] = [
            (re.compile(spec.pattern), (Term(category, role, "pattern", name),))
            for category, table in categories.items()
            for role, named in table.patterns.items()
            for name, spec in named.items()
        ]
        requires: list[Iterable[str]] = [
            spec.requires
            for table in categories.values()
            for named in table.patterns.values()
            for spec in named.values()
        ]
        # A product model: one pattern, a strong term of each of its categories.
        for model in models:
            patterns.append(
                (
                    re.compile(model.pattern),
                    tuple(
                        Term(category, "strong", MODEL, model.name) for category in model.categories
                    ),
                )
            )
            requires.append(model.requires)
        self._patterns = patterns
        self._required = ahocorasick.Automaton()
        by_literal: dict[str, set[int]] = {}
        for index, literals in enumerate(requires):
            for literal in literals:
                by_literal.setdefault(literal, set()).add(index)
        for literal, indexes in by_literal.items():
            self._required.add_word(literal, frozenset(indexes))
        if by_literal:
            self._required.make_automaton()
        self._any_required = bool(by_literal)
        self.size = (
            sum(len(v) for v in token_entries.values())
            + sum(len(v) for v in raw_entries.values())
            + len(self._patterns)
        )

    def scan(self, normalised: str, tokens: Tokens) -> list[Hit]:
        hits: list[Hit] = []
        stems = tokens.stems
        count = stems.count
        starts: list[int] | None = None
        new = tuple.__new__
        for end, (length, terms, checked) in self._tokens.iter(stems):
            # Inlined Tokens.span_of: the hot loop of a line.
            if starts is None:
                starts = tokens.part_starts()
            start = starts[2 * count(" ", 0, end - length + 2) - 1]
            stop = starts[2 * count(" ", 0, end)]
            if not checked:
                hits.extend([new(Hit, (term, start, stop)) for term in terms])
                continue
            hits.extend(
                _hit((term, start, stop))
                for term in terms
                if term.role != "negative" or _as_typed(term, normalised[start:stop], self._forms)
            )
        if has_han(normalised):
            for end, (length, terms) in self._raw.iter(normalised):
                hits.extend(_hit((term, end - length + 1, end + 1)) for term in terms)
        if self._any_required:
            wanted: set[int] = set()
            for _, indexes in self._required.iter(normalised):
                wanted |= indexes
            for index in sorted(wanted) if wanted else ():
                pattern, terms = self._patterns[index]
                for m in pattern.finditer(normalised):
                    hits.extend(new(Hit, (term, m.start(), m.end())) for term in terms)
        return hits


def by_category(hits: Iterable[Hit]) -> dict[Category, dict[Role, list[Hit]]]:
    out: dict[Category, dict[Role, list[Hit]]] = {}
    for hit in hits:
        out.setdefault(hit.term.category, {}).setdefault(hit.term.role, []).append(hit)
    return out
