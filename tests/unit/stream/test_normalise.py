import pytest

from stream.stages.normalise import normalise_country, normalise_hs


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


def test_country_codes_are_upper_cased_and_blank_is_none() -> None:
    assert normalise_country(" ru ") == "RU"
    assert normalise_country("  ") is None
    assert normalise_country(None) is None
