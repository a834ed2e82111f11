"""The real-text gate: per-category precision and recall on the held-out third of the
nomenclature texts (tests/data/real_texts_gate.jsonl), never looked at while tuning."""

from pathlib import Path

import pytest

from schemas.rule_data import load_rules
from stream.evaluate import MISDECLARATION, evaluate, load_labelled

DATA = Path(__file__).resolve().parents[2] / "data"
GATE = 0.90
LINES = load_labelled(DATA / "real_texts_gate.jsonl")
DEV = load_labelled(DATA / "real_texts_dev.jsonl")
RESULT = evaluate(load_rules(), LINES)


def test_the_sets_are_sourced_split_and_rich_in_hard_negatives() -> None:
    both = LINES + DEV
    assert len(both) >= 600
    assert all(line["source"] and line["description"] for line in both)
    assert sum(line["hard_negative"] for line in both) / len(both) >= 0.4
    assert not {x["description"] for x in LINES} & {x["description"] for x in DEV}
    assert abs(len(LINES) / len(both) - 1 / 3) < 0.01


@pytest.mark.parametrize("category", [*load_rules().categories, MISDECLARATION])
def test_category_meets_the_real_text_gate(category: str) -> None:
    score = RESULT.scores[category]
    assert score.precision >= GATE, f"precision {score.precision:.3f}"
    assert score.recall >= GATE, f"recall {score.recall:.3f}"
