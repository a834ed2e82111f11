import pytest

from schemas.rule_data import load_rules
from stream.stages.classify import CodeClassifier
from stream.stages.normalise import normalise_hs

CLASSIFY = CodeClassifier.from_rules(load_rules())


@pytest.mark.parametrize(
    ("code", "categories", "tier"),
    [
        ("8542.31.90", ["microelectronics"], "1"),
        ("8542 39 900 0", ["microelectronics"], "1"),
        ("8526.91.20", ["gnss"], "2"),
        ("8806.22.00", ["uav"], None),
        ("9013.10.00", ["weapon_optics"], "3B"),
        ("9303.30", ["firearms"], None),
        ("8525.83.00", ["night_vision"], None),
        ("8807.30.00", [], "3B"),  # parts of aircraft too: the text must confirm a UAV
        ("8482.10.10", [], "3B"),
        ("6506.10.80", [], None),  # safety headgear: hard hats share the code
        ("6211.33.00", [], None),  # garments: only the description can say "vest"
        ("0806.10.10", [], None),
        ("85", [], None),
    ],
)
def test_code_alone_classification(code: str, categories: list[str], tier: str | None) -> None:
    found = CLASSIFY(normalise_hs(code))
    assert found.categories == categories
    assert found.chpl_tier == tier


def test_every_match_carries_evidence_and_confidence() -> None:
    found = CLASSIFY(normalise_hs("8542.31.90"))
    assert {(e.target, e.matched) for e in found.evidence} == {
        ("microelectronics", "854231"),
        ("chpl", "854231"),
    }
    assert found.confidence > 0.5
    assert CLASSIFY(normalise_hs("0806.10")).confidence == 0.0
