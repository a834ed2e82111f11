"""Score a party against the watchlist index: identifiers first, then names.

A name score is the better of two comparisons of the normalised forms:

* whole names: edit distance between the compact forms, if no more edits than
  ``allowed_edits`` grants for their length (so "vektorsnab" ~ "vektrsnab", but "alfa" is
  not "alga");
* word by word: each query word paired with its closest listed word (again within the
  allowed edits), weighted by length, generic business words counting little; the score is
  the matched weight over the weight of both names (word order does not matter).

A country mismatch (both sides known, none shared) subtracts ``country_mismatch_penalty``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from schemas.rule_data import ScreeningRules
from stream.screening.index import ListedName, WatchlistIndex, identifier_key
from stream.screening.names import NameForm


@dataclass(frozen=True, slots=True)
class Match:
    """One listed entity a party matched, with how."""

    entity: int
    score: float
    matched_name: str
    explanation: str


class Scorer:
    """Pure comparison of two :class:`NameForm`-like token sequences."""

    def __init__(self, rules: ScreeningRules, generic_words: frozenset[str]) -> None:
        self.rules = rules
        self.generic_words = generic_words
        self._edits = [rules.edits_allowed(n) for n in range(64)]

    def allowed(self, length: int) -> int:
        return self._edits[min(length, 63)]

    def weight(self, token: str) -> float:
        base = float(len(token))
        return base * self.rules.generic_weight if token in self.generic_words else base

    def whole(self, a: str, b: str) -> float:
        longest = max(len(a), len(b))
        if not longest:
            return 0.0
        allowed = self.allowed(longest)
        distance = Levenshtein.distance(a, b, score_cutoff=allowed)
        return 1.0 - distance / longest if distance <= allowed else 0.0

    def words(self, query: tuple[str, ...], listed: tuple[str, ...]) -> tuple[float, int]:
        """Word-alignment score and the number of words paired."""
        total = sum(self.weight(t) for t in query) + sum(self.weight(t) for t in listed)
        if not total:
            return 0.0, 0
        free = list(listed)
        matched = 0.0
        paired = 0
        for token in query:
            best_at, best_sim = -1, 0.0
            for at, other in enumerate(free):
                if not other:
                    continue
                sim = self.whole(token, other) if token != other else 1.0
                if sim > best_sim:
                    best_at, best_sim = at, sim
                    if sim == 1.0:
                        break
            if best_at >= 0:
                matched += best_sim * (self.weight(token) + self.weight(free[best_at]))
                free[best_at] = ""
                paired += 1
        return matched / total, paired

    def names(self, query: NameForm, listed: ListedName) -> tuple[float, str]:
        whole = self.whole(query.compact, listed.compact)
        if whole == 1.0:
            return 1.0, "same normalised name"
        words, paired = self.words(query.tokens, listed.tokens)
        if whole >= words:
            return whole, f"whole name within {self.allowed(len(query.compact))} edits"
        return words, f"{paired} of {len(query.tokens)} words paired"


class Screener:
    """Finds the listed entities a party is, with a bounded cache per distinct name."""

    def __init__(self, index: WatchlistIndex, threshold: float | None = None) -> None:
        self.index = index
        self.rules = index.rules
        self.threshold = self.rules.threshold if threshold is None else threshold
        self.scorer = Scorer(self.rules, index.normalise.generic_words)
        self._cache: OrderedDict[str, tuple[NameForm, list[tuple[int, float, str, str]]]] = (
            OrderedDict()
        )

    def _name_candidates(self, name: str) -> tuple[NameForm, list[tuple[int, float, str, str]]]:
        """Best score per entity for a name, before countries are considered (cached)."""
        cached = self._cache.get(name)
        if cached is not None:
            self._cache.move_to_end(name)
            return cached
        form = self.index.normalise(name)
        best: dict[int, tuple[int, float, str, str]] = {}
        floor = self.threshold - 1e-9
        names = self.index.names
        for name_no in self.index.candidates(form):
            listed = names[name_no]
            score, how = self.scorer.names(form, listed)
            if score < floor:
                continue
            current = best.get(listed.entity)
            if current is None or score > current[1]:
                best[listed.entity] = (listed.entity, score, listed.text, how)
        result = (form, sorted(best.values(), key=lambda r: -r[1]))
        if self.rules.cache_size:
            self._cache[name] = result
            if len(self._cache) > self.rules.cache_size:
                self._cache.popitem(last=False)
        return result

    def screen(
        self, name: str | None, country: str | None = None, identifier: str | None = None
    ) -> list[Match]:
        """Every listed entity the party matches at or above the threshold, best first."""
        matches: dict[int, Match] = {}
        if identifier:
            key = identifier_key(identifier)
            if len(key) >= self.rules.identifier_min_length:
                for entity, scheme in self.index.identifiers.get(key, ()):
                    matches[entity] = Match(
                        entity,
                        self.rules.identifier_score,
                        self.index.entities[entity].caption,
                        f"{scheme} {key} identical",
                    )
        if name and name.strip():
            _, scored = self._name_candidates(name)
            penalty = self.rules.country_mismatch_penalty
            wanted = country.lower() if country else None
            for entity, score, matched_name, how in scored:
                if entity in matches:
                    continue
                countries = self.index.entities[entity].countries
                if wanted and countries and wanted not in countries:
                    score -= penalty
                    listed = ",".join(sorted(countries)).upper()
                    how += f"; country {wanted.upper()} not the list's ({listed}) -{penalty:.2f}"
                if score >= self.threshold:
                    matches[entity] = Match(entity, round(score, 4), matched_name, how)
        return sorted(matches.values(), key=lambda m: -m.score)

    def cache_info(self) -> tuple[int, int]:
        return len(self._cache), self.rules.cache_size
