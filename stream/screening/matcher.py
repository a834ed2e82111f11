"""Score a party against the watchlist index: identifiers first, then names.

A name score is the better of two comparisons of the normalised forms:

* word by word: each query word paired with an equal or its closest listed word, within the
  edits ``allowed_edits`` grants for the word's length (so "promtehnologia" ~
  "promtehnolgia", but "alfa" is not "alga"), generic business words weighing less; words
  left over on both sides mean another company (word order does not matter);
* whole names, when the two split into a different number of words ("Vektorsnab",
  "Vektor Snab"): edit distance between the compact forms, within the allowed edits.

A country mismatch (both sides known, none shared) subtracts ``country_mismatch_penalty``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import OSA

from schemas.rule_data import ScreeningRules
from stream.screening.index import WatchlistIndex, address_key, identifier_key
from stream.screening.names import NameForm


@dataclass(frozen=True, slots=True)
class Match:
    """One listed entity a party matched, with how."""

    entity: int
    score: float
    matched_name: str
    explanation: str
    by_identifier: bool = False
    by_address: bool = False


How = tuple[int, int]
"""How a name score was reached: (words paired, -1), (-1, edits allowed) for whole names,
or :data:`SAME_NAME`."""
SAME_NAME: How = (-1, -1)
Own = tuple[tuple[str, ...], str]
"""A name's organisation words, sorted, and its other words joined (:meth:`Scorer.own`)."""
PINYIN_PAIRS = -2
"""The second number of a :data:`How` whose pairs are syllable pairs (characters, pinyin)."""


def explain(query: NameForm, how: How) -> str:
    paired, edits = how
    if edits == PINYIN_PAIRS:
        return f"{paired} syllable pairs of characters and pinyin"
    if edits >= 0:
        return f"whole name within {edits} edits"
    if paired < 0:
        return "same normalised name"
    return f"{paired} of {len(query.words)} words paired"


class Scorer:
    """Pure comparison of a query name with a listed name, both normalised."""

    def __init__(self, rules: ScreeningRules, generic_words: frozenset[str]) -> None:
        self.rules = rules
        self.generic_words = generic_words
        self.generic_weight = rules.generic_weight
        self._edits = [rules.edits_allowed(n) for n in range(64)]
        vocabulary = rules.organisation
        self.concept_words = vocabulary.concept_words if vocabulary else frozenset()
        self._generic_pair = 2 * self.generic_weight
        self._pair_most = 2 * max(self.generic_weight, 1.0)  # a pair's weight at most
        self._word_least = min(self.generic_weight, 1.0)  # a word's weight at least
        # for each word length, whether a word of that length can be within the allowed
        # edits of a word of another spelling (of some length): else it pairs only if equal
        most = max(self._edits)
        self._fuzzy = [
            any(
                self.allowed(max(n, m)) >= max(1, abs(n - m))
                for m in range(max(0, n - most), n + most + 1)
            )
            for n in range(64 + most)
        ]

    def allowed(self, length: int) -> int:
        return self._edits[length if length < 64 else 63]

    def whole(self, a: str, b: str) -> float:
        """Similarity of two strings within the edits their length allows, else 0."""
        longest = len(a) if len(a) > len(b) else len(b)
        if not longest:
            return 0.0
        allowed = self._edits[longest if longest < 64 else 63]
        if abs(len(a) - len(b)) > allowed:
            return 0.0
        distance = OSA.distance(a, b, score_cutoff=allowed)
        return 1.0 - distance / longest if distance <= allowed else 0.0

    def words(
        self, query: Sequence[str], listed: Sequence[str], exact: bool = False
    ) -> tuple[float, int]:
        """Word-alignment score and the number of words paired.

        Equal words pair first, then each remaining query word with its closest remaining
        listed word. Paired words weigh 1 (generic words ``generic_weight``) times their
        similarity; words left over on one side only weigh the same and lower the score;
        words left over on both sides are conflicting (another company) and weigh
        ``conflict_weight`` each. Without a distinctive (non-generic) word paired, the score
        is 0: "Ningbo Import & Export" is not every Ningbo importer. ``exact`` allows no
        typos (Chinese syllable pairs: one other character is another name).
        """
        return self._aligned(query, list(listed), exact)

    def _aligned(self, query: Sequence[str], free: list[str], exact: bool) -> tuple[float, int]:
        """:meth:`words`, pairing away the words of ``free`` (the caller's own copy)."""
        generic = self.generic_words
        light = self.generic_weight
        left: list[str] = []
        matched = paired_weight = 0.0
        paired = distinctive = 0
        for token in query:
            if token in free:
                free.remove(token)
                weight = 2 * light if token in generic else 2.0
                distinctive += token not in generic
                matched += weight
                paired_weight += weight
                paired += 1
            else:
                left.append(token)
        unmatched: list[str] = []
        if exact:
            unmatched, left = left, []
        edits = self._edits
        for token in left:
            best_at, best_sim = -1, 0.0
            size = len(token)
            for at, other in enumerate(free):
                # self.whole(token, other), inlined: the hot loop of party resolution. A
                # word left here equals no free word (it would have paired above), so it is
                # at least one edit away: nothing to measure when no edit is allowed.
                other_size = len(other)
                longest = size if size > other_size else other_size
                allowed = edits[longest if longest < 64 else 63]
                if not allowed or abs(size - other_size) > allowed:
                    continue
                distance = OSA.distance(token, other, score_cutoff=allowed)
                if distance > allowed:
                    continue
                sim = 1.0 - distance / longest
                if sim > best_sim:
                    best_at, best_sim = at, sim
            if best_at < 0:
                unmatched.append(token)
                continue
            other = free.pop(best_at)
            weight = (light if token in generic else 1.0) + (light if other in generic else 1.0)
            distinctive += token not in generic or other not in generic
            matched += best_sim * weight
            paired_weight += weight
            paired += 1
        if not distinctive:
            return 0.0, paired
        if unmatched and free:
            rest = self.rules.conflict_weight * (len(unmatched) + len(free))
        else:
            rest = sum(light if t in generic else 1.0 for t in (*unmatched, *free))
        return matched / (paired_weight + rest), paired

    def bound(self, query: Sequence[str], listed: Sequence[str], exact: bool = False) -> float:
        """An upper bound of :meth:`words`' score, without aligning.

        Equal words pair as in :meth:`words`; of the rest, as many as either side has words
        within the allowed edits of some word of the other are taken to pair at full weight
        and similarity, and the words left over weigh the least they can. Without such
        words it is the score itself."""
        generic = self.generic_words
        free = list(listed)
        left: list[str] = []
        matched = 0.0
        distinctive = False
        for token in query:
            if token in free:
                free.remove(token)
                if token in generic:
                    matched += self._generic_pair
                else:
                    matched += 2.0
                    distinctive = True
            else:
                left.append(token)
        if not (left and free):  # nothing to pair by edits: the score, as words() sums it
            if not distinctive:
                return 0.0
            light = self.generic_weight
            return matched / (matched + sum(light if t in generic else 1.0 for t in left or free))
        fuzzy = 0
        if not exact:
            edits, can, top = self._edits, self._fuzzy, len(self._fuzzy) - 1
            near: set[int] = set()
            for token in left:
                size = len(token)
                if not can[size if size < top else top]:
                    continue
                found = False
                for at, other in enumerate(free):
                    # the filter of _aligned, then its edit distance within the allowance
                    other_size = len(other)
                    longest = size if size > other_size else other_size
                    allowed = edits[longest if longest < 64 else 63]
                    if not allowed or abs(size - other_size) > allowed:
                        continue
                    if OSA.distance(token, other, score_cutoff=allowed) <= allowed:
                        near.add(at)
                        found = True
                fuzzy += found
            fuzzy = min(fuzzy, len(near))
        conflict = self.rules.conflict_weight
        best = matched / (matched + conflict * (len(left) + len(free))) if distinctive else 0.0
        for k in range(1, fuzzy + 1):
            weight = matched + k * self._pair_most
            unmatched, unpaired = len(left) - k, len(free) - k
            if unmatched and unpaired:
                rest = conflict * (unmatched + unpaired)
            else:
                rest = self._word_least * (unmatched + unpaired)
            best = max(best, weight / (weight + rest))
        return best

    def compare_bound(
        self,
        query: NameForm,
        listed: Sequence[str],
        listed_compact: str,
        listed_han: bool = False,
        listed_pinyin: Sequence[str] = (),
        query_own: Own | None = None,
        listed_own: Own | None = None,
    ) -> float:
        """An upper bound of :meth:`compare_split`'s score, cheaper than it: the words'
        :meth:`bound` instead of their alignment (syllable pairs and whole names as there;
        ``query_own``, ``listed_own``: :meth:`own` of each side's words, when kept)."""
        if query.compact == listed_compact:
            return 1.0
        score = self.bound(query.words, listed, query.han or listed_han)
        query_pairs = query.words if query.han else query.pinyin
        listed_pairs = listed if listed_han else listed_pinyin
        if query_pairs and listed_pairs and (query.han, listed_han) != (True, True):
            score = max(score, self.bound(query_pairs, listed_pairs, True))
        if len(listed) != len(query.words):
            whole = self._whole_names(query, listed, listed_compact, query_own, listed_own)[0]
            score = max(score, whole)
        return score

    def names(
        self,
        query: NameForm,
        listed_words: str,
        listed_compact: str,
        listed_han: bool = False,
        listed_pinyin: str = "",
    ) -> tuple[float, str]:
        score, how = self.compare(query, listed_words, listed_compact, listed_han, listed_pinyin)
        return score, explain(query, how)

    def compare(
        self,
        query: NameForm,
        listed_words: str,
        listed_compact: str,
        listed_han: bool = False,
        listed_pinyin: str = "",
    ) -> tuple[float, How]:
        """:meth:`names` with how the score was reached as numbers (:func:`explain` words
        them), so that a loop over many candidates formats only the ones it keeps."""
        if query.compact == listed_compact:
            return 1.0, SAME_NAME
        return self.compare_split(
            query,
            listed_words.split(" "),
            listed_compact,
            listed_han,
            listed_pinyin.split(" ") if listed_pinyin else (),
        )

    def compare_split(
        self,
        query: NameForm,
        listed: Sequence[str],
        listed_compact: str,
        listed_han: bool = False,
        listed_pinyin: Sequence[str] = (),
    ) -> tuple[float, How]:
        """:meth:`compare` of a listed name already split into its words (and pinyin
        pairs), as a caller that compares one name many times keeps it."""
        if query.compact == listed_compact:
            return 1.0, SAME_NAME
        count = len(listed)
        words, paired = self._aligned(query.words, list(listed), query.han or listed_han)
        # a name in characters or in pinyin against one in pinyin ("Guangzhou Ousai Keji",
        # "GUANG ZHOU OU SAI KE JI"): syllable pairs against pairs, whatever the spacing
        query_pairs = query.words if query.han else query.pinyin
        listed_pairs = listed if listed_han else listed_pinyin
        if query_pairs and listed_pairs and (query.han, listed_han) != (True, True):
            as_pinyin, pairs = self._aligned(query_pairs, list(listed_pairs), True)
            if as_pinyin > words:
                return as_pinyin, (pairs, PINYIN_PAIRS)
        if count != len(query.words):
            whole, edits = self._whole_names(query, listed, listed_compact)
            if whole > words:
                return whole, (-1, edits)
        return words, (paired, -1)

    def own(self, words: Sequence[str]) -> Own:
        """A name's organisation words, sorted, and its other words joined (what
        :meth:`compare` compares whole names by)."""
        concepts = self.concept_words
        return (
            tuple(sorted(w for w in words if w in concepts)),
            "".join(w for w in words if w not in concepts),
        )

    def _whole_names(
        self,
        query: NameForm,
        listed: Sequence[str],
        listed_compact: str,
        query_own: Own | None = None,
        listed_own: Own | None = None,
    ) -> tuple[float, int]:
        """Names split or joined differently ("Vektorsnab", "Vektor Snab") compared whole,
        without the organisation words, which would lengthen both and so allow more edits
        in the company's own words ("IPPI RAN" is not "IFTT RAN"); only when both have the
        same organisation words ("STC Atlas" is not "Atlas"). The score and the edits
        allowed."""
        query_kind, query_rest = query_own or self.own(query.words)
        listed_kind, listed_rest = listed_own or self.own(listed)
        if query_kind == listed_kind:
            query_whole, listed_whole = query_rest, listed_rest
        else:
            query_whole, listed_whole = query.compact, listed_compact
        return self.whole(query_whole, listed_whole), self.allowed(len(listed_whole))


Scored = list[tuple[int, float, str, str]]


class _Bounded:
    """A least-recently-used map of at most ``size`` entries. It holds an ``OrderedDict``
    rather than being one: a class compiled by mypyc may not subclass it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, key: str, value: Any) -> None:
        if self.size:
            self._entries[key] = value
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def recall(self, key: str) -> Any:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value


class Screener:
    """Finds the listed entities a party is.

    Two bounded caches: written name → normalised form, and normalised form → scores, so
    ``ООО "ВЕКТОР-СНАБ"`` and ``OOO Vektor-Snab`` are scored once between them.
    """

    def __init__(self, index: WatchlistIndex, threshold: float | None = None) -> None:
        self.index = index
        self.rules = index.rules
        self.threshold = self.rules.threshold if threshold is None else threshold
        self.scorer = Scorer(self.rules, index.normalise.generic_words)
        self._forms = _Bounded(self.rules.cache_size)
        self._scored = _Bounded(self.rules.cache_size)

    def _name_candidates(self, name: str) -> Scored:
        """Best score per entity for a name, before countries are considered (cached)."""
        form: NameForm | None = self._forms.recall(name)
        if form is None:
            form = self.index.normalise(name)
            self._forms.remember(name, form)
        key = f"{form.compact}\x00{' '.join(form.words)}"
        cached: Scored | None = self._scored.recall(key)
        if cached is not None:
            return cached
        best: dict[int, tuple[int, float, str, str]] = {}
        floor = self.threshold - 1e-9
        index = self.index
        spaced, texts, owner = index.name_spaced, index.name_text, index.name_entity
        han_compact = index.han_compact
        compare = self.scorer.compare
        for name_no in index.candidates(form):
            listed = spaced[name_no]
            han = han_compact.get(name_no)
            compact = han or listed.replace(" ", "")
            score, how = compare(form, listed, compact, han is not None)
            if score < floor:
                continue
            entity = owner[name_no]
            current = best.get(entity)
            if current is None or score > current[1]:
                best[entity] = (entity, score, texts[name_no], explain(form, how))
        result = sorted(best.values(), key=lambda r: -r[1])
        self._scored.remember(key, result)
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
                        by_identifier=True,
                    )
        if name and name.strip():
            scored = self._name_candidates(name)
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

    def screen_address(self, address: str | None) -> list[Match]:
        """Listed entities registered at this address (after normalisation)."""
        key = address_key(address, self.rules.address_noise) if address else None
        if not key:
            return []
        entities = self.index.entities
        return [
            Match(
                entity, 1.0, entities[entity].caption, f"address identical: {key}", by_address=True
            )
            for entity in dict.fromkeys(self.index.addresses.get(key, ()))
        ]

    def cache_info(self) -> tuple[int, int, int]:
        """Names remembered, normalised forms scored, and the bound of each."""
        return len(self._forms), len(self._scored), self.rules.cache_size
