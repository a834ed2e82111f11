"""Per-category precision and recall of the classifier on a labelled set of lines.

The labelled set (``tests/data/labelled_lines.jsonl``) has one JSON object per line with
``id``, ``lang``, ``hs_code``, ``description``, ``expected`` (categories) and
``misdeclaration`` (bool). ``make eval`` prints the table; a test fails below the gate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from schemas.rule_data import RuleSet
from stream.stages.classify import Classifier
from stream.stages.hs_reading import HsReader

MISDECLARATION = "misdeclaration_suspected"
NO_CODE = frozenset({"missing", "unreadable", "chapter_only", "heading_only"})


@dataclass
class Score:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        relevant = self.true_positive + self.false_negative
        return self.true_positive / relevant if relevant else 1.0


@dataclass
class Miss:
    id: str
    description: str
    hs_code: str
    expected: list[str]
    predicted: list[str]


@dataclass
class Evaluation:
    scores: dict[str, Score] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    lines: int = 0
    without_code: int = 0
    """Lines whose code gave no HS6 (missing, unreadable, chapter or heading only)."""


def load_labelled(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def evaluate(rules: RuleSet, labelled: Iterable[dict[str, Any]]) -> Evaluation:
    classify = Classifier(rules)
    read_hs = HsReader(rules.hs2022, rules.hs_correlation)
    result = Evaluation(scores={c: Score() for c in (*rules.categories, MISDECLARATION)})
    for item in labelled:
        result.lines += 1
        hs = read_hs(item.get("hs_code") or "")
        result.without_code += hs.status in NO_CODE
        found = classify(hs, item["description"])
        predicted: set[str] = set(found.categories)
        expected = set(item["expected"])
        if found.misdeclaration_reason is not None:
            predicted.add(MISDECLARATION)
        if item.get("misdeclaration"):
            expected.add(MISDECLARATION)
        for category, score in result.scores.items():
            score.true_positive += category in predicted and category in expected
            score.false_positive += category in predicted and category not in expected
            score.false_negative += category not in predicted and category in expected
        if predicted != expected:
            result.misses.append(
                Miss(
                    item["id"],
                    item["description"],
                    item.get("hs_code") or "",
                    sorted(expected),
                    sorted(predicted),
                )
            )
    return result
