"""Pairwise precision and recall of party resolution on labelled name clusters.

Each line of the set is a written name with the cluster (company) it belongs to; the names
are resolved in file order into one empty registry, as a feed would bring them. A pair of
names is predicted together when they get the same party id, and truly together when they
share a cluster; precision and recall are over all such pairs.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.rule_data import RuleSet
from stream.screening.matcher import Scorer
from stream.screening.names import NameNormaliser
from stream.stages.party import PartyRegistry, PartyResolver


@dataclass
class PairScores:
    names: int
    clusters: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    spelling_pairs: int = 0
    spelling_pairs_found: int = 0
    merged_wrongly: list[tuple[str, str]] = field(default_factory=list)
    split_wrongly: list[tuple[str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def spelling_recall(self) -> float:
        """Recall over pairs of spellings only: Cyrillic names and Latin transliterations
        of one company (translations and acronyms aside), the variants customs feeds show."""
        if not self.spelling_pairs:
            return 1.0
        return self.spelling_pairs_found / self.spelling_pairs


def _pairs(counts: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def resolver_for(rules: RuleSet) -> PartyResolver:
    normalise = NameNormaliser(rules.screening)
    return PartyResolver(rules.parties, normalise, Scorer(rules.screening, normalise.generic_words))


def evaluate_clusters(path: Path, rules: RuleSet, part: str | None = None) -> PairScores:
    """Resolve the set's names (``part``: ``dev``, ``gate`` or every line) and score pairs."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if part is not None:
        lines = [line for line in lines if line["part"] == part]
    resolver = resolver_for(rules)
    registry = PartyRegistry()
    got: list[str] = []
    for line in lines:
        result = resolver.resolve(registry, line["name"], line.get("country"), line.get("ids", ()))
        got.append(result.party_id or f"none:{line['name']}")
    got = [registry.root(p) for p in got]
    truth = [line["cluster"] for line in lines]
    both = Counter(zip(truth, got, strict=True))
    scores = PairScores(
        names=len(lines),
        clusters=len(set(truth)),
        true_pairs=_pairs(Counter(truth)),
        predicted_pairs=_pairs(Counter(got)),
        correct_pairs=_pairs(both),
    )
    spelling = [
        line.get("form") == "transliteration"
        or (line.get("form") == "original" and line.get("script") == "cyrillic")
        for line in lines
    ]
    scores.spelling_pairs = _pairs(Counter(t for t, s in zip(truth, spelling, strict=True) if s))
    scores.spelling_pairs_found = _pairs(
        Counter(pair for pair, s in zip(zip(truth, got, strict=True), spelling, strict=True) if s)
    )
    by_party: dict[str, list[int]] = {}
    by_cluster: dict[str, list[int]] = {}
    for i, (t, g) in enumerate(zip(truth, got, strict=True)):
        by_party.setdefault(g, []).append(i)
        by_cluster.setdefault(t, []).append(i)
    for members in by_party.values():
        for i in members[1:]:
            if truth[i] != truth[members[0]]:
                scores.merged_wrongly.append((lines[members[0]]["name"], lines[i]["name"]))
    for members in by_cluster.values():
        groups: dict[str, int] = {}
        for i in members:
            if spelling[i]:
                groups.setdefault(got[i], i)
        firsts = list(groups.values())
        for i in firsts[1:]:
            scores.split_wrongly.append((lines[firsts[0]]["name"], lines[i]["name"]))
    return scores
