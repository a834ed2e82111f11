"""Quality gate: precision and recall of screening on the labelled pairs (issue 5)."""

from pathlib import Path

import pytest

from schemas.rule_data import load_rules
from stream.screening.matcher import Screener
from stream.screening.pairs import PairScores, format_misses, pairs_index, read_pairs, score_pairs

PAIRS = Path(__file__).resolve().parents[2] / "data" / "screening_pairs.jsonl"


@pytest.fixture(scope="module")
def scores() -> PairScores:
    pairs = read_pairs(PAIRS)
    assert len(pairs) >= 200
    kinds = {p.kind for p in pairs}
    assert {"translit", "legal_form", "typo", "word_order", "near_miss_word"} <= kinds
    rules = load_rules().screening
    return score_pairs(pairs, Screener(pairs_index(pairs, rules)))


def test_precision_at_least_095(scores: PairScores) -> None:
    assert scores.precision >= 0.95, format_misses(scores)


def test_recall_at_least_095(scores: PairScores) -> None:
    assert scores.recall >= 0.95, format_misses(scores)


def test_the_set_has_both_labels_in_number(scores: PairScores) -> None:
    assert scores.tp + scores.fn >= 100
    assert scores.tn + scores.fp >= 80
