"""Stage ``classify``: CHPL tier and battlefield categories from the code and the description.

Signals (rule data in ``schemas/rules/``: chpl.csv, hs_categories.yaml, lexicon.yaml):

- a **strong code** (``code_alone``: 8806 drones, 9013.10 sights, 8542.31 processors) names
  the category by itself;
- a **weak code** (``needs_text``: 6211 garments, 6506.10 headgear, 8525.89 cameras) never
  does alone; it adds evidence and confidence when the description confirms the category;
- the **description** names a category with a strong term, or with a weak term plus a
  qualifier (``жилет`` + ``Бр4``), unless a negative term of that category says the text is
  about an ordinary product (``строительная каска``, ``термобелье``, ``air rifle``);
- a **product model** whose name carries the capability (``Mavic 3T``, ``Zenmuse H20T``,
  ``Thermion 2 XP50``; product_models.yaml) reads as a strong term of each of its categories,
  and no negative term cancels it; its evidence is a term in the language ``model``;
- strong text under a cover heading (toys, sports goods, household goods) with no code
  support marks the line ``misdeclaration_suspected``.

The code is read first (:mod:`stream.stages.hs_reading`). A code missing or unusable leaves
the text alone to decide. A 4-digit heading holding category subheadings (8542, 9013) is a
weak code for those categories; an older-vintage code correlating to several HS 2022
subheadings (8802.20 of HS 2017 → 8806) is a weak code for theirs, and one correlating to a
single subheading is read as that subheading. Evidence says which: ``hs_prefix``,
``hs_heading`` or ``hs_correlation``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import ahocorasick

from schemas.enriched import Category, ChplTier, Evidence, HsCode
from schemas.rule_data import PrefixRule, RuleSet
from schemas.trusted import trusted
from stream.stages.lexicon import MODEL, Hit, Lexicon, Role, by_category
from stream.stages.text import Tokens, normalise_text

CACHE_SIZE = 50_000


Fact = tuple[str, str, str, str, str | None, int | None, int | None, str | None]
"""One piece of evidence as plain values, in the order of ``Evidence``'s fields: kind,
target, matched, field, language, start, end, text."""


def _model(fact: Fact) -> Evidence:
    # The facts are our own plain values in the model's field order: built without
    # validating them again (schemas.trusted), cheaper than pydantic-core's validation.
    kind, target, matched, field, language, start, end, text = fact
    return trusted(
        Evidence,
        {
            "kind": kind,
            "target": target,
            "matched": matched,
            "field": field,
            "language": language,
            "start": start,
            "end": end,
            "text": text,
        },
    )


class Classification(NamedTuple):
    """What classify found for one (code, description) pair.

    A tuple of plain values (the evidence too, as ``facts``): the cache of results holds
    tens of thousands of them, and tuples of strings and numbers are not walked by the
    garbage collector, while pydantic models would be on every full collection. The
    ``evidence`` models are built from the facts when asked for (once per enriched line).
    """

    categories: tuple[Category, ...] = ()
    chpl_tier: ChplTier | None = None
    facts: tuple[Fact, ...] = ()
    confidence: float = 0.0
    misdeclaration_reason: str | None = None
    hs_version: str | None = None
    """The older HS vintage a category was read through, when the correlation decided it."""
    models: tuple[Evidence, ...] | None = None
    """The evidence models, kept once the same description came back (see ``__call__``)."""

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        if self.models is not None:
            return self.models
        return tuple(map(_model, self.facts))


_NOTHING = Classification()

Via = tuple[str, str, str | None]
"""Where a weak code signal came from: (evidence kind, what matched, HS vintage or None)."""


def _longest_prefix(
    digits: str, table: dict[str, PrefixRule], lengths: tuple[int, ...]
) -> PrefixRule | None:
    found = None
    for length in lengths:
        if len(digits) < length:
            break
        found = table.get(digits[:length], found)
    return found


class Classifier:
    """Tables and automata built once from a rule set; a call does no I/O."""

    def __init__(self, rules: RuleSet) -> None:
        self.chpl: dict[str, ChplTier] = {hs6: e.tier for hs6, e in rules.chpl.items()}
        # One table for every category's code prefixes: a line costs a handful of lookups.
        self.codes: dict[str, list[tuple[Category, bool, PrefixRule]]] = {}
        for category, table in rules.categories.items():
            for rule in table.code_alone:
                self.codes.setdefault(rule.prefix, []).append((category, True, rule))
            for rule in table.needs_text:
                self.codes.setdefault(rule.prefix, []).append((category, False, rule))
        self.lengths = tuple(sorted({len(p) for p in self.codes}))
        # Heading → categories with a longer prefix under it: a weak code for a 4-digit line.
        self.under_heading: dict[str, dict[Category, PrefixRule]] = {}
        for prefix, entries in self.codes.items():
            if len(prefix) > 4:
                for category, _, rule in entries:
                    self.under_heading.setdefault(prefix[:4], {}).setdefault(
                        category,
                        PrefixRule(
                            prefix=prefix[:4], note=f"heading holding {prefix}: {rule.note}"
                        ),
                    )
        self.correlation = rules.hs_correlation
        # "except unmanned aircraft": a term after an exclusion word, before the next ';'.
        words = sorted({w for ws in rules.exclusions.values() for w in ws}, key=len, reverse=True)
        self.exclusion_words = re.compile("|".join(re.escape(w) for w in words) or "(?!)")
        self.excluded = (
            re.compile(
                r"(?:^|[^\w])(?:" + "|".join(re.escape(w) for w in words) + r")(?:[^\w;]|$)[^;]*$"
            )
            if words
            else None
        )
        # "(for example, ..., signal flares)": negatives inside a list of examples.
        self.example_words = _Markers(w for ws in rules.examples.values() for w in ws)
        self.cover = {r.prefix: r for r in rules.cover_headings}
        self.cover_lengths = tuple(sorted({len(p) for p in self.cover}))
        self.order = {category: i for i, category in enumerate(rules.categories)}
        self.lexicon = Lexicon(rules.lexicon, rules.product_models)
        self.confidence = rules.confidence
        self.yields_to = {c: tuple(t.yields_to) for c, t in rules.lexicon.items() if t.yields_to}
        self._cache: dict[tuple[str, str], Classification] = {}
        self._code_memo: dict[str, dict[Category, tuple[PrefixRule | None, PrefixRule | None]]] = {}
        self._weak_memo: dict[
            tuple[str, str, tuple[str, ...], tuple[str, ...]],
            dict[Category, tuple[PrefixRule, Via]],
        ] = {}

    def _codes(self, digits: str) -> Mapping[Category, tuple[PrefixRule | None, PrefixRule | None]]:
        """Per category: the longest strong and the longest weak prefix of ``digits``
        (memoised per code: the mapping is shared, callers copy it before changing it)."""
        found = self._code_memo.get(digits)
        if found is None:
            found = self._lookup_codes(digits)
            if len(self._code_memo) >= CACHE_SIZE:
                self._code_memo.clear()
            self._code_memo[digits] = found
        return found

    def _lookup_codes(
        self, digits: str
    ) -> dict[Category, tuple[PrefixRule | None, PrefixRule | None]]:
        found: dict[Category, tuple[PrefixRule | None, PrefixRule | None]] = {}
        for length in self.lengths:
            if len(digits) < length:
                break
            for category, strong, rule in self.codes.get(digits[:length], ()):
                current = found.get(category, (None, None))
                found[category] = (rule, current[1]) if strong else (current[0], rule)
        return found

    def __call__(self, hs: HsCode, description: str) -> Classification:
        """Classify one line; results are cached per (code digits, description).

        Feeds repeat the same goods descriptions line after line; the cache holds up to
        CACHE_SIZE distinct pairs and starts over when full. Results are immutable. A
        result is cached with its evidence as plain values; when its description comes
        back, it is cached again with the evidence models built, so the repeating
        descriptions pay for them once and the one-off ones never keep them alive.
        """
        key = (hs.declared, description)
        found = self._cache.get(key)
        if found is None:
            found = self._classify(hs, description)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = found
        elif found.models is None and found.facts:
            found = found._replace(models=found.evidence)
            self._cache[key] = found
        return found

    def _code_signals(
        self, hs: HsCode, text_categories: set[Category] | dict[Category, Any]
    ) -> tuple[
        str, Mapping[Category, tuple[PrefixRule | None, PrefixRule | None]], dict[Category, Via]
    ]:
        """The digits read, the code rules per category, and where weak signals came from.

        A weak signal only matters for a category the text names: without one, headings
        and correlations are not looked at (the cheap path for most lines)."""
        digits = hs.digits
        if hs.status == "older_version" and len(hs.read_as) == 1:
            digits = hs.read_as[0]
        via: dict[Category, Via] = {}
        if not text_categories:
            return digits, self._codes(digits), via
        base = self._codes(digits)
        extra = self._weak_memo.get((hs.status, digits, hs.read_as, hs.others))
        if extra is None:
            extra = self._weak_signals(hs, digits, base)
            if len(self._weak_memo) >= CACHE_SIZE:
                self._weak_memo.clear()
            self._weak_memo[(hs.status, digits, hs.read_as, hs.others)] = extra
        if not extra:
            return digits, base, via
        codes = dict(base)
        for category, (rule, source) in extra.items():
            if category in text_categories:
                codes[category] = (None, rule)
                via[category] = source
        return digits, codes, via

    def _weak_signals(
        self,
        hs: HsCode,
        digits: str,
        base: Mapping[Category, tuple[PrefixRule | None, PrefixRule | None]],
    ) -> dict[Category, tuple[PrefixRule, Via]]:
        """Per category the code itself does not name: the weak signal from the heading, the
        correlation or another declared code, the first that has one (memoised per code)."""
        out: dict[Category, tuple[PrefixRule, Via]] = {}
        if hs.status == "heading_only":
            for category, rule in self.under_heading.get(hs.hs4, {}).items():
                if category not in base:
                    out[category] = (rule, ("hs_heading", hs.hs4, None))
        moved = hs.read_as if digits == hs.digits else ()
        vintage = self.correlation[hs.hs6][0] if moved and hs.hs6 in self.correlation else None
        for kind, others in (("hs_correlation", moved), ("hs_prefix", hs.others)):
            for other in others:
                for category, (strong, weak) in self._codes(other).items():
                    other_rule = strong or weak
                    if other_rule is None or category in base or category in out:
                        continue
                    accepts = "strong" if strong is not None else other_rule.accepts
                    rule = PrefixRule(
                        prefix=other_rule.prefix, note=other_rule.note, accepts=accepts
                    )
                    matched = f"{hs.hs6}→{other}" if kind == "hs_correlation" else other
                    out[category] = (
                        rule,
                        (kind, matched, vintage if kind == "hs_correlation" else None),
                    )
        return out

    def _classify(self, hs: HsCode, description: str) -> Classification:
        normalised = normalise_text(description)
        hits = self.lexicon.scan(normalised, Tokens.of(normalised)) if normalised else []
        if hits and self.excluded is not None and self.exclusion_words.search(normalised):
            hits = [h for h in hits if not self._excluded(normalised, h)]
        text_hits = by_category(hits)
        # Only a category with both a strong and a negative hit can be saved by the example
        # lists: the marker search runs for those lines alone.
        if any("negative" in roles and "strong" in roles for roles in text_hits.values()):
            self._examples_do_not_veto(normalised, text_hits)
        digits, codes, via = self._code_signals(hs, text_hits)
        if not text_hits and not codes:
            # Most lines: nothing in the text or the code; only a CHPL code can still count.
            return self._chpl_only(digits)
        read_through: str | None = None
        candidates: list[Category] = sorted({*codes, *text_hits}, key=self.order.__getitem__)
        categories: list[Category] = []
        evidence: list[Fact] = []
        confidence = 0.0
        misdeclared: list[str] = []
        readings: dict[
            Category, tuple[PrefixRule | None, PrefixRule | None, str | None, list[Hit]]
        ] = {}
        for category in candidates:
            strong_code, weak_code = codes.get(category, (None, None))
            reading, used = self._read_text(text_hits.get(category, {}), weak_code)
            if strong_code is not None or reading is not None:
                readings[category] = (strong_code, weak_code, reading, used)
        if not readings:
            return self._chpl_only(digits)
        for category, (strong_code, weak_code, reading, used) in readings.items():
            # A reading from a weak term and a qualifier gives way to a category the data
            # names as more specific (ballistic ceramic plates are armour ceramics).
            if (
                strong_code is None
                and reading in ("qualified", "weak code+qualified")
                and any(other in readings for other in self.yields_to.get(category, ()))
            ):
                continue
            categories.append(category)
            code = strong_code or (weak_code if reading else None)
            if code is not None:
                kind, matched, vintage = via.get(category, ("hs_prefix", code.prefix, None))
                evidence.append(_evidence(kind, category, matched))
                read_through = read_through or vintage
            evidence.extend(_term_evidence(category, used, description, normalised))
            if strong_code is not None:
                confidence = max(confidence, self.confidence["code+text" if reading else "code"])
            else:
                confidence = max(confidence, self.confidence[reading or "text"])
                if weak_code is None and reading in ("text", "qualified"):
                    cover = _longest_prefix(digits, self.cover, self.cover_lengths)
                    if cover is not None:
                        term = normalised[used[0].start : used[0].end] if used else category
                        misdeclared.append(
                            f"description names {category} ('{term}') but HS {hs.digits} is "
                            f"{cover.note} (heading {cover.prefix})"
                        )
        hs6 = digits[:6] if len(digits) >= 6 else ""
        tier = self.chpl.get(hs6) if hs6 else None
        if tier is not None:
            evidence.append(_evidence("hs_prefix", "chpl", hs6))
            confidence = max(confidence, self.confidence["code"])
        return Classification(
            tuple(categories),
            tier,
            tuple(evidence),
            confidence,
            "; ".join(misdeclared) or None,
            read_through,
        )

    def _chpl_only(self, digits: str) -> Classification:
        tier = self.chpl.get(digits[:6]) if len(digits) >= 6 else None
        if tier is None:
            return _NOTHING
        return Classification(
            (),
            tier,
            (_evidence("hs_prefix", "chpl", digits[:6]),),
            self.confidence["code"],
        )

    def _examples_do_not_veto(
        self, normalised: str, text_hits: dict[Category, dict[Role, list[Hit]]]
    ) -> None:
        """Drop negatives that only name an example when the head names the category.

        ``Other firearms ... (for example, sporting shotguns, ..., devices designed to
        project only signal flares)``: ``flare`` names one example, the head names firearms.
        A negative in the head (``Signal pistols (e.g. ...)``) or in a list that is all its
        clause says (``Firearms; (e.g. spring, air or gas guns ...)``) still cancels.
        """
        markers = self.example_words.starts(normalised)
        if not markers:
            return
        lists: list[tuple[int, int, bool]] | None = None
        for roles in text_hits.values():
            negatives = roles.get("negative")
            strong = roles.get("strong")
            if not negatives or not strong:
                continue
            if lists is None:
                lists = _example_lists(normalised, markers)
            if not lists:
                return
            if all(_in_list(hit, lists, headed_only=False) for hit in strong):
                continue
            kept = [hit for hit in negatives if not _in_list(hit, lists, headed_only=True)]
            if kept:
                roles["negative"] = kept
            else:
                del roles["negative"]

    def _excluded(self, normalised: str, hit: Hit) -> bool:
        """Is the term named only to be excluded (``except unmanned aircraft``)? Negative
        terms keep their force wherever they stand."""
        if hit.term.role == "negative" or self.excluded is None:
            return False
        return self.excluded.search(normalised, max(0, hit.start - 100), hit.start) is not None

    @staticmethod
    def _read_text(
        hits: dict[Role, list[Hit]], weak_code: PrefixRule | None
    ) -> tuple[str | None, list[Hit]]:
        """Which textual reading supports the category, and the hits behind it.

        A negative term cancels the category, except against a product model: 'DJI Mavic
        3T with remote controller' is a thermal drone, not an IR remote."""
        if not hits:
            return None, []
        strong = hits.get("strong", [])
        if hits.get("negative") and not any(h.term.language == MODEL for h in strong):
            return None, []
        weak = hits.get("weak", [])
        qualifiers = hits.get("qualifiers", [])
        if strong:
            return ("weak code+text" if weak_code else "text"), strong + qualifiers
        # A qualifier inside the weak term itself (полетн in полетный контроллер) is no support.
        qualifiers = [
            q for q in qualifiers if not any(w.start <= q.start and q.end <= w.end for w in weak)
        ]
        if weak and qualifiers:
            return ("weak code+qualified" if weak_code else "qualified"), weak + qualifiers
        if weak and weak_code is not None and weak_code.accepts == "weak":
            return "weak code+weak text", weak
        return None, []


_CJK_WORD = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]+")


class _Markers:
    """Where marker words ('for example', 'например', '例如') start in a text: one
    Aho-Corasick pass, then a word-boundary check for the words that are not Chinese."""

    def __init__(self, words: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for word in set(words):
            self._automaton.add_word(word, (len(word), _CJK_WORD.fullmatch(word) is None))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def starts(self, text: str) -> list[int]:
        if self._empty:
            return []
        out = []
        for end, (length, bounded) in self._automaton.iter(text):
            start = end - length + 1
            if bounded and (
                (start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"))
                or (end + 1 < len(text) and (text[end + 1].isalnum() or text[end + 1] == "_"))
            ):
                continue
            out.append(start)
        return sorted(set(out))


def _example_lists(normalised: str, markers: list[int]) -> list[tuple[int, int, bool]]:
    """Spans of the example lists in a text, and whether each has a head of its own.

    A list opened inside parentheses runs to the closing one; otherwise to the next ';'.
    Its head is what its clause says before it (after the previous ';'): ``other similar
    devices (e.g. ...)`` has one, ``Firearms; (e.g. ...)`` has none.
    """
    out = []
    for at in markers:
        opened = normalised.rfind("(", 0, at)
        if opened != -1 and normalised.find(")", opened, at) == -1:
            start = opened
            close = normalised.find(")", at)
            end = close if close != -1 else len(normalised)
        else:
            start = at
            stop = normalised.find(";", at)
            end = stop if stop != -1 else len(normalised)
        clause = normalised.rfind(";", 0, start) + 1
        headed = any(c.isalnum() for c in normalised[clause:start])
        out.append((start, end, headed))
    return out


def _in_list(hit: Hit, lists: list[tuple[int, int, bool]], *, headed_only: bool) -> bool:
    return any(
        start <= hit.start and hit.end <= end and (headed or not headed_only)
        for start, end, headed in lists
    )


def _evidence(kind: str, target: str, matched: str) -> Fact:
    """Evidence from the declared code."""
    return (kind, target, matched, "hs_code", None, None, None, None)


def _term_evidence(category: str, hits: list[Hit], original: str, normalised: str) -> list[Fact]:
    source = original if len(original) == len(normalised) else normalised
    out: list[Fact] = []
    seen: set[tuple[int, int]] = set()
    for term, start, end in hits:
        if (start, end) in seen:
            continue
        seen.add((start, end))
        text = source[start:end]
        out.append(("term", category, term.term, "description", term.language, start, end, text))
    return out
