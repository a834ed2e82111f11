"""Stage ``classify``: CHPL tier and battlefield categories from the code and the description.

Signals (rule data in ``schemas/rules/``: chpl.csv, hs_categories.yaml, lexicon.yaml):

- a **strong code** (``code_alone``: 8806 drones, 9013.10 sights, 8542.31 processors) names
  the category by itself;
- a **weak code** (``needs_text``: 6211 garments, 6506.10 headgear, 8525.89 cameras) never
  does alone; it adds evidence and confidence when the description confirms the category;
- the **description** names a category with a strong term, or with a weak term plus a
  qualifier (``жилет`` + ``Бр4``), unless a negative term of that category says the text is
  about an ordinary product (``строительная каска``, ``термобелье``, ``air rifle``);
- strong text under a cover heading (toys, sports goods, household goods) with no code
  support marks the line ``misdeclaration_suspected``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.enriched import Category, ChplTier, Evidence, HsCode
from schemas.rule_data import PrefixRule, RuleSet
from stream.stages.lexicon import Hit, Lexicon, Role, by_category
from stream.stages.text import Tokens, normalise_text

# How sure a reading is, by the signals behind it.
CONFIDENCE = {
    "code+text": 0.95,
    "code": 0.9,
    "text": 0.85,
    "weak code+text": 0.9,
    "qualified": 0.7,
    "weak code+qualified": 0.85,
    "weak code+weak text": 0.75,
}


@dataclass(frozen=True, slots=True)
class Classification:
    categories: list[Category] = field(default_factory=list)
    chpl_tier: ChplTier | None = None
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 0.0
    misdeclaration_reason: str | None = None


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
        self.strong_codes: dict[Category, dict[str, PrefixRule]] = {}
        self.weak_codes: dict[Category, dict[str, PrefixRule]] = {}
        lengths: set[int] = set()
        for category, table in rules.categories.items():
            self.strong_codes[category] = {r.prefix: r for r in table.code_alone}
            self.weak_codes[category] = {r.prefix: r for r in table.needs_text}
            lengths.update(len(r.prefix) for r in (*table.code_alone, *table.needs_text))
        self.lengths = tuple(sorted(lengths))
        self.cover = {r.prefix: r for r in rules.cover_headings}
        self.cover_lengths = tuple(sorted({len(p) for p in self.cover}))
        self.categories: tuple[Category, ...] = tuple(rules.categories)
        self.lexicon = Lexicon(rules.lexicon)

    def __call__(self, hs: HsCode, description: str) -> Classification:
        normalised = normalise_text(description)
        tokens = Tokens.of(normalised)
        text_hits = by_category(self.lexicon.scan(normalised, tokens)) if normalised else {}
        categories: list[Category] = []
        evidence: list[Evidence] = []
        confidence = 0.0
        misdeclared: list[str] = []
        for category in self.categories:
            strong_code = _longest_prefix(hs.digits, self.strong_codes[category], self.lengths)
            weak_code = _longest_prefix(hs.digits, self.weak_codes[category], self.lengths)
            hits = text_hits.get(category, {})
            reading, used = self._read_text(hits, weak_code)
            if strong_code is None and reading is None:
                continue
            categories.append(category)
            code = strong_code or (weak_code if reading else None)
            if code is not None:
                evidence.append(Evidence(kind="hs_prefix", target=category, matched=code.prefix))
            evidence.extend(_term_evidence(category, used, description, normalised))
            if strong_code is not None:
                confidence = max(confidence, CONFIDENCE["code+text" if reading else "code"])
            else:
                confidence = max(confidence, CONFIDENCE[reading or "text"])
                if weak_code is None and reading in ("text", "qualified"):
                    cover = _longest_prefix(hs.digits, self.cover, self.cover_lengths)
                    if cover is not None:
                        term = normalised[used[0].start : used[0].end] if used else category
                        misdeclared.append(
                            f"description names {category} ('{term}') but HS {hs.digits} is "
                            f"{cover.note} (heading {cover.prefix})"
                        )
        tier = self.chpl.get(hs.hs6) if hs.hs6 else None
        if tier is not None:
            evidence.append(Evidence(kind="hs_prefix", target="chpl", matched=hs.hs6))
            confidence = max(confidence, CONFIDENCE["code"])
        return Classification(
            categories, tier, evidence, confidence, "; ".join(misdeclared) or None
        )

    @staticmethod
    def _read_text(
        hits: dict[Role, list[Hit]], weak_code: PrefixRule | None
    ) -> tuple[str | None, list[Hit]]:
        """Which textual reading supports the category, and the hits behind it."""
        if not hits or hits.get("negative"):
            return None, []
        strong = hits.get("strong", [])
        weak = hits.get("weak", [])
        qualifiers = hits.get("qualifiers", [])
        if strong:
            return ("weak code+text" if weak_code else "text"), strong + qualifiers
        if weak and qualifiers:
            return ("weak code+qualified" if weak_code else "qualified"), weak + qualifiers
        if weak and weak_code is not None and weak_code.accepts == "weak":
            return "weak code+weak text", weak
        return None, []


def _term_evidence(
    category: str, hits: list[Hit], original: str, normalised: str
) -> list[Evidence]:
    same_length = len(original) == len(normalised)
    out = []
    seen: set[tuple[int, int]] = set()
    for hit in hits:
        if (hit.start, hit.end) in seen:
            continue
        seen.add((hit.start, hit.end))
        source = original if same_length else normalised
        out.append(
            Evidence(
                kind="term",
                target=category,
                matched=hit.term.term,
                field="description",
                language=hit.term.language,
                start=hit.start,
                end=hit.end,
                text=source[hit.start : hit.end],
            )
        )
    return out
