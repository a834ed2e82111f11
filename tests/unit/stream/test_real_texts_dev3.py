"""The third real-text set (``real_texts3_dev.jsonl``): a development set only, collected for
the categories the prose gate found weakest (GNSS, chips, thermal imaging, armour ceramics),
their hard negatives and product models. It has no gate part of its own; its scores guard
against regressions on the classes fixed with it."""

from pathlib import Path

import pytest

from schemas.rule_data import load_rules
from stream.evaluate import evaluate, load_labelled

LINES = load_labelled(Path(__file__).resolve().parents[2] / "data" / "real_texts3_dev.jsonl")
RULES = load_rules()
FLOOR = 0.85


def test_the_set_is_sourced_labelled_and_holds_hard_negatives() -> None:
    assert len(LINES) >= 150
    assert all(line["source"] and line["description"] and line["group"] for line in LINES)
    assert len({line["description"] for line in LINES}) == len(LINES)
    assert sum(line["hard_negative"] for line in LINES) >= 50
    assert all(set(line["expected"]) <= set(RULES.categories) for line in LINES)


@pytest.mark.parametrize(
    "category", ["gnss", "microelectronics", "thermal_imaging", "armor_ceramics"]
)
def test_the_weak_categories_stay_fixed_on_the_set(category: str) -> None:
    score = evaluate(RULES, LINES).scores[category]
    assert score.precision >= FLOOR and score.recall >= FLOOR, score
