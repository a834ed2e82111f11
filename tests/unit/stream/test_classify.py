"""Case table for the classifier; the per-category quality gate is test_labelled_set.py."""

import pytest

from schemas.rule_data import load_rules
from stream.stages.classify import Classifier
from stream.stages.normalise import normalise_hs

CLASSIFY = Classifier(load_rules())


@pytest.mark.parametrize(
    ("code", "description", "categories", "tier"),
    [
        ("8542.31.90", "", ["microelectronics"], "1"),
        ("8526.91.20", "", [], "2"),  # also car navigators: the text must say GNSS
        ("8526.91.20", "GPS module", ["gnss"], "2"),
        ("8806.22.00", "", ["uav"], None),
        ("9013.10.00", "", ["weapon_optics"], "3B"),
        ("8807.30.00", "", [], "3B"),  # aircraft parts too: the text must confirm a UAV
        ("6506.10.80", "", [], None),  # a weak code alone is not a category
        ("6211.33.00", "Men's vest, polyester", [], None),
        ("6211.33.00", "Жилет защитный, класс защиты Бр4", ["body_armor"], None),
        ("6506.10", "Каска строительная", [], None),
        ("6506.10", "Шлем баллистический кевларовый", ["helmet"], None),
        ("8807.30", "Пропеллеры 5 дюймов", ["uav"], "3B"),  # accepts: weak
        ("8525.89", "Thermal imaging camera 640x512", ["thermal_imaging"], "3A"),
        ("9013.10", "Тепловизионный прицел", ["thermal_imaging", "weapon_optics"], "3B"),
        ("9304.00", "Airsoft rifle replica, gas", [], None),
        ("2005.20", "Potato chips, salted", [], None),
        ("8806.21", "无人机 航拍", ["uav"], None),
    ],
)
def test_code_and_text_combined(
    code: str, description: str, categories: list[str], tier: str | None
) -> None:
    found = CLASSIFY(normalise_hs(code), description)
    assert list(found.categories) == categories
    assert found.chpl_tier == tier


def test_strong_text_under_a_toy_heading_is_a_suspected_misdeclaration() -> None:
    found = CLASSIFY(normalise_hs("9503.00"), "Квадрокоптер с тепловизором")
    assert found.categories == ("uav", "thermal_imaging")
    assert found.misdeclaration_reason is not None
    assert "9503" in found.misdeclaration_reason


def test_a_ballistic_vest_under_garments_is_not_a_misdeclaration() -> None:
    found = CLASSIFY(normalise_hs("6211.33"), "Bulletproof vest NIJ IIIA")
    assert found.categories == ("body_armor",)
    assert found.misdeclaration_reason is None


def test_evidence_names_the_code_prefix_and_the_words_with_positions() -> None:
    description = "Тепловизионный прицел для охоты"
    found = CLASSIFY(normalise_hs("9013.10"), description)
    terms = [e for e in found.evidence if e.kind == "term"]
    assert {(e.target, e.text) for e in terms} >= {
        ("thermal_imaging", "Тепловизионный"),
        ("weapon_optics", "прицел"),
    }
    for e in terms:
        assert e.start is not None and e.end is not None
        assert description[e.start : e.end] == e.text
        assert e.language == "ru"
    assert ("weapon_optics", "901310") in {
        (e.target, e.matched) for e in found.evidence if e.kind == "hs_prefix"
    }
    assert found.confidence >= 0.9
    assert CLASSIFY(normalise_hs("0806.10"), "Grapes").confidence == 0.0


def test_a_repeated_description_keeps_its_evidence_models_and_a_new_one_plain_values() -> None:
    classify = Classifier(load_rules())
    hs = normalise_hs("8806.22")
    first = classify(hs, "Quadcopter with thermal camera 640x512")
    assert first.models is None
    assert first.facts and all(
        isinstance(value, (str, int, type(None))) for f in first.facts for value in f
    )
    again = classify(hs, "Quadcopter with thermal camera 640x512")
    assert again.models is not None
    assert again.evidence == first.evidence
    assert classify(hs, "Quadcopter with thermal camera 640x512").models is again.models
