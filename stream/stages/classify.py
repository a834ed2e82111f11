"""Stage ``classify``: CHPL tier and battlefield categories from the commodity code.

Reads the CHPL list and the ``code_alone`` HS prefixes from the rule set (see
``schemas/rules/``). Prefixes that need the description to confirm them are left to the
text classifier of issue 4, so a hard hat (6506.10) is not called a ballistic helmet here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.enriched import Category, ChplTier, Evidence, HsCode
from schemas.rule_data import RuleSet

CODE_ALONE_CONFIDENCE = 0.9


@dataclass(frozen=True, slots=True)
class Classification:
    categories: list[Category] = field(default_factory=list)
    chpl_tier: ChplTier | None = None
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class CodeClassifier:
    """Prefix tables built once from a rule set; calls are lookups only."""

    chpl: dict[str, ChplTier]
    prefixes: dict[str, tuple[Category, ...]]
    prefix_lengths: tuple[int, ...]

    @classmethod
    def from_rules(cls, rules: RuleSet) -> CodeClassifier:
        prefixes: dict[str, list[Category]] = {}
        for category, table in rules.categories.items():
            for rule in table.code_alone:
                prefixes.setdefault(rule.prefix, []).append(category)
        return cls(
            chpl={hs6: entry.tier for hs6, entry in rules.chpl.items()},
            prefixes={p: tuple(c) for p, c in prefixes.items()},
            prefix_lengths=tuple(sorted({len(p) for p in prefixes})),
        )

    def __call__(self, hs: HsCode) -> Classification:
        categories: list[Category] = []
        evidence: list[Evidence] = []
        for length in self.prefix_lengths:
            if len(hs.digits) < length:
                break
            prefix = hs.digits[:length]
            for category in self.prefixes.get(prefix, ()):
                if category not in categories:
                    categories.append(category)
                    evidence.append(Evidence(kind="hs_prefix", target=category, matched=prefix))
        tier = self.chpl.get(hs.hs6) if hs.hs6 else None
        if tier is not None:
            evidence.append(Evidence(kind="hs_prefix", target="chpl", matched=hs.hs6))
        confidence = CODE_ALONE_CONFIDENCE if evidence else 0.0
        return Classification(categories, tier, evidence, confidence)
