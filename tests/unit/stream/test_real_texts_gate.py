"""The real-text gates: per-category precision and recall on the held-out thirds of the real
texts, never looked at while tuning.

- ``real_texts_gate.jsonl``: HS 2022 (English) and ТН ВЭД (Russian) nomenclature texts;
- ``real_texts2_gate.jsonl``: Ukrainian, Chinese and English product names, tariff and ruling
  texts, documentation and web prose.

A category is gated on a set only where that set's gate holds at least ``MIN_POSITIVES`` lines
naming it; with fewer, one line would swing the score by 20 points or more (those categories
stay gated on the labelled set).
"""

from pathlib import Path
from typing import Any

import pytest

from schemas.rule_data import load_rules
from stream.evaluate import MISDECLARATION, Evaluation, evaluate, load_labelled

DATA = Path(__file__).resolve().parents[2] / "data"
GATE = 0.90
MIN_POSITIVES = 5
RULES = load_rules()
SETS = {
    "nomenclature": ("real_texts_gate.jsonl", "real_texts_dev.jsonl"),
    "prose": ("real_texts2_gate.jsonl", "real_texts2_dev.jsonl"),
}
LINES = {name: load_labelled(DATA / gate) for name, (gate, _) in SETS.items()}
DEV = {name: load_labelled(DATA / dev) for name, (_, dev) in SETS.items()}
RESULTS: dict[str, Evaluation] = {name: evaluate(RULES, lines) for name, lines in LINES.items()}
BELOW_GATE: dict[tuple[str, str, str], float] = {
    # The prose gate's first run (2 Dec 2026, before any tuning) left five scores under 0.90.
    # The gate is not looked at or tuned on, so they are floors, not targets: nothing may get
    # worse, and an entry must go once its category meets the gate again. Its second run
    # (after the classes fixed on the third dev set) met the gate for chips' precision, GNSS
    # recall and armour ceramics' recall; these two stayed.
    ("prose", "thermal_imaging", "precision"): 0.875,
    ("prose", "microelectronics", "recall"): 0.888,
}


def _positives(lines: list[dict[str, Any]], category: str) -> int:
    if category == MISDECLARATION:
        return sum(bool(line.get("misdeclaration")) for line in lines)
    return sum(category in line["expected"] for line in lines)


def _gated() -> list[tuple[str, str]]:
    out = []
    for name, lines in LINES.items():
        for category in [*RULES.categories, MISDECLARATION]:
            # The nomenclature set predates the minimum and is gated on every category.
            if name == "nomenclature" or _positives(lines, category) >= MIN_POSITIVES:
                out.append((name, category))
    return out


@pytest.mark.parametrize("name", list(SETS))
def test_the_sets_are_sourced_split_and_rich_in_hard_negatives(name: str) -> None:
    gate, dev = LINES[name], DEV[name]
    both = gate + dev
    assert len(both) >= 400
    assert all(line["source"] and line["description"] for line in both)
    assert sum(line["hard_negative"] for line in both) / len(both) >= 0.4
    assert not {x["description"] for x in gate} & {x["description"] for x in dev}
    assert abs(len(gate) / len(both) - 1 / 3) < 0.05


def test_the_dev_only_set_shares_no_text_with_a_gate() -> None:
    """``real_texts3_dev.jsonl`` (no gate of its own) was collected after the gates were cut."""
    dev3 = {x["description"] for x in load_labelled(DATA / "real_texts3_dev.jsonl")}
    for lines in LINES.values():
        assert not dev3 & {x["description"] for x in lines}


def test_the_prose_gate_covers_the_categories_its_set_is_for() -> None:
    gated = {category for name, category in _gated() if name == "prose"}
    assert {"gnss", "microelectronics", "thermal_imaging", "armor_ceramics"} <= gated


@pytest.mark.parametrize(("name", "category"), _gated())
def test_category_meets_the_real_text_gate(name: str, category: str) -> None:
    score = RESULTS[name].scores[category]
    for metric in ("precision", "recall"):
        floor = BELOW_GATE.get((name, category, metric), GATE)
        assert getattr(score, metric) >= floor, f"{metric} {getattr(score, metric):.3f}"


@pytest.mark.parametrize("key", list(BELOW_GATE))
def test_a_floor_under_the_gate_is_still_needed(key: tuple[str, str, str]) -> None:
    name, category, metric = key
    assert (name, category) in _gated()
    assert getattr(RESULTS[name].scores[category], metric) < GATE, "meets the gate: drop the floor"
