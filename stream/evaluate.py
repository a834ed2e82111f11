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
from stream.stages.normalise import normalise_hs

MISDECLARATION = "misdeclaration_suspected"


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


def load_labelled(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def evaluate(rules: RuleSet, labelled: Iterable[dict[str, Any]]) -> Evaluation:
    classify = Classifier(rules)
    result = Evaluation(scores={c: Score() for c in (*rules.categories, MISDECLARATION)})
    for item in labelled:
        result.lines += 1
        found = classify(normalise_hs(item["hs_code"]), item["description"])
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
                    item["hs_code"],
                    sorted(expected),
                    sorted(predicted),
                )
            )
    return result
