"""The quality gate: per-category precision and recall on the labelled development set."""

from collections import Counter
from pathlib import Path

import pytest

from schemas.rule_data import load_rules
from stream.evaluate import MISDECLARATION, evaluate, load_labelled

LABELLED = Path(__file__).resolve().parents[2] / "data" / "labelled_lines.jsonl"
GATE = 0.95
LINES = load_labelled(LABELLED)
RESULT = evaluate(load_rules(), LINES)


def test_the_set_is_large_multilingual_and_rich_in_hard_negatives() -> None:
    assert len(LINES) >= 300
    languages = Counter(line["lang"] for line in LINES)
    assert set(languages) == {"en", "ru", "uk", "zh"}
    negatives = sum(1 for line in LINES if not line["expected"])
    assert negatives / len(LINES) >= 0.4
    categories = load_rules().categories
    for category in categories:
        assert sum(category in line["expected"] for line in LINES) >= 10, category


@pytest.mark.parametrize("category", [*load_rules().categories, MISDECLARATION])
def test_category_meets_the_gate(category: str) -> None:
    score = RESULT.scores[category]
    misses = [m for m in RESULT.misses if category in m.expected or category in m.predicted]
    detail = "\n".join(
        f"{m.id} {m.hs_code} {m.expected}->{m.predicted}: {m.description}" for m in misses
    )
    assert score.precision >= GATE, f"precision {score.precision:.3f}\n{detail}"
    assert score.recall >= GATE, f"recall {score.recall:.3f}\n{detail}"
