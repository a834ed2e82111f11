from datetime import date
from decimal import Decimal

import pytest

from schemas.rule_data import RULES_DIR, load_fx_rates, load_rules
from stream.stages.normalise import Normaliser, normalise_hs, usd_value
from stream.stages.text import normalise_text

NORMALISE = Normaliser(load_rules())
FX = load_fx_rates(RULES_DIR / "fx_rates_sample.yaml")


@pytest.mark.parametrize(
    ("declared", "digits", "hs4", "hs6"),
    [
        ("6211.33.00.00", "6211330000", "6211", "621133"),
        ("6211 33", "621133", "6211", "621133"),
        ("621133", "621133", "6211", "621133"),
        ("8542 31 900 0", "8542319000", "8542", "854231"),
        ("8806", "8806", "8806", ""),
        ("93", "93", "", ""),
    ],
)
def test_hs_codes_reduce_to_digits_and_levels(
    declared: str, digits: str, hs4: str, hs6: str
) -> None:
    hs = normalise_hs(declared)
    assert hs.declared == declared
    assert hs.digits == digits
    assert hs.hs2 == digits[:2]
    assert hs.hs4 == hs4
    assert hs.hs6 == hs6


def test_hs6_outside_the_2022_nomenclature_is_flagged() -> None:
    assert NORMALISE.hs("8806.22.00")[1] is True
    assert NORMALISE.hs("8525.80")[1] is False  # split into .81-.89 in HS 2022
    assert NORMALISE.hs("1234.56")[1] is False
    assert NORMALISE.hs("8806")[1] is False


@pytest.mark.parametrize(
    ("declared", "alpha2"),
    [
        ("CN", "CN"), ("cn", "CN"), ("CHN", "CN"), ("156", "CN"), ("China", "CN"),
        ("Китай", "CN"), ("КНР", "CN"), ("中国", "CN"), ("Hong Kong", "HK"), ("Гонконг", "HK"),
        ("香港", "HK"), ("Türkiye", "TR"), ("Turkey", "TR"), ("Туреччина", "TR"), ("ОАЭ", "AE"),
        ("阿联酋", "AE"), ("Российская Федерация", "RU"), ("РФ", "RU"), ("643", "RU"),
        ("Беларусь", "BY"), ("Білорусь", "BY"), ("United States of America", "US"),
        ("США", "US"), ("Німеччина", "DE"), ("UK", "GB"), ("  kz ", "KZ"),
    ],
)  # fmt: skip
def test_countries_resolve_from_codes_and_names(declared: str, alpha2: str) -> None:
    assert NORMALISE.country(declared) == (alpha2, True)


def test_unresolved_country_is_kept_as_declared_and_blank_is_none() -> None:
    assert NORMALISE.country("Atlantis") == ("Atlantis", False)
    assert NORMALISE.country("  ") == (None, True)
    assert NORMALISE.country(None) == (None, True)


@pytest.mark.parametrize(
    ("unit", "code"),
    [("pcs", "H87"), ("ШТ.", "H87"), ("个", "H87"), ("кг", "KGM"), ("千克", "KGM"),
     ("pairs", "PR"), ("компл", "SET"), ("furlong", None), (None, None)],
)  # fmt: skip
def test_units_map_to_rec20_codes(unit: str | None, code: str | None) -> None:
    assert NORMALISE.unit(unit) == code


def test_usd_value_uses_the_rate_of_the_declaration_year() -> None:
    assert usd_value(Decimal("1000"), "CNY", date(2024, 5, 1), FX) == Decimal("138.90")
    assert usd_value(Decimal("1000"), "руб", date(2023, 5, 1), FX) == Decimal("11.75")
    assert usd_value(Decimal("1000"), "CNY", date(2019, 5, 1), FX) is None
    assert usd_value(Decimal("1000"), "XYZ", date(2024, 5, 1), FX) is None
    assert usd_value(Decimal("1000"), "CNY", date(2024, 5, 1), None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  БРОНЕЖИЛEТ   класс  Бр4 ", "бронежилет класс бр4"),  # Latin E in a Cyrillic word
        ("KВАДРОКОПТЕР DJI", "квадрокоптер dji"),  # Latin K
        ("Plate cаrrier", "plate carrier"),  # Cyrillic а in a Latin word
        ("ＦＰＶ　ＫＩＴ", "fpv kit"),  # full-width forms (NFKC)
        ("комп’ютер", "компютер"),
        ("STM32F405 микросхема", "stm32f405 микросхема"),  # real mixed words stay
    ],
)
def test_text_normalisation(text: str, expected: str) -> None:
    assert normalise_text(text) == expected
