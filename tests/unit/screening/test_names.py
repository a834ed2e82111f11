import re

import pytest

from schemas.rule_data import load_rules
from stream.screening.names import NameNormaliser

NORMALISE = NameNormaliser(load_rules().screening)


@pytest.mark.parametrize(
    "name",
    [
        'ООО "ВЕКТОР-СНАБ"',
        "ООО «Вектор-Снаб»",
        "OOO VEKTOR-SNAB",
        "Vektor Snab, LLC",
        'Общество с ограниченной ответственностью "Вектор-Снаб"',
        "Obshchestvo s ogranichennoy otvetstvennost'yu Vektor-Snab",
        "Limited Liability Company Vektor Snab",
    ],
)
def test_legal_forms_scripts_and_punctuation_fold_away(name: str) -> None:
    assert NORMALISE(name).tokens == ("vektor", "snab")


@pytest.mark.parametrize(
    ("strict", "loose"),
    [
        ("Промтехнология", "Promtehnologia"),
        ("OOO Promtekhnologiya", "Promtehnologija"),
        ("Центр Евгений", "Tsentr Yevgeniy"),
        ("Центр", "Tzentr"),
        ("Щит", "Schit"),
        ("Майский", "Majskij"),
        ("Тексико", "Texiko"),
    ],
)
def test_strict_and_loose_romanisations_meet(strict: str, loose: str) -> None:
    assert NORMALISE(strict).compact == NORMALISE(loose).compact


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("Gulf Star FZE", ("gulf", "star")),
        ("Gulf Star FZCO", ("gulf", "star")),
        ("Alpha Trade Sp. z o.o.", ("alfa", "trade")),
        ("Altair Lojistik Ltd. Şti.", ("altair", "loistik")),
        ("ТОВ «Київ Трейд»", ("kiv", "treid")),
        ("Siemens GmbH", ("siemens",)),
        ("ТОО Алматы Трейд", ("almati", "treid")),
    ],
)
def test_legal_forms_in_many_languages(name: str, tokens: tuple[str, ...]) -> None:
    assert NORMALISE(name).tokens == tokens


def test_chinese_becomes_pinyin_syllables_with_word_keys() -> None:
    form = NORMALISE("深圳华信电子有限公司")
    assert form.han
    assert form.tokens == ("shen", "zhen", "hua", "xin", "dian", "zi")
    # syllable pairs let a Latin "Shenzhen Huaxin" find the Chinese name; 电子 (dianzi)
    # compares as its English equivalent
    electronics = NORMALISE.fold("electronics")
    assert form.words == ("shenzhen", "zhenhua", "huaxin", "xindian", electronics)
    assert {"shenzhen", "huaxin", electronics} <= form.keys
    assert form.compact == "shenzhenhuaxindianzi"


def test_a_name_that_is_only_a_legal_form_is_kept() -> None:
    form = NORMALISE("LLC")
    assert form.tokens == (NORMALISE.fold("llc"),)


def test_long_words_get_typo_keys() -> None:
    keys = NORMALISE("Promtehnologia").keys
    assert "prom<" in keys and ">logia" not in keys and ">ogia" in keys
    assert not any(k.endswith("<") for k in NORMALISE("Alfa").keys)


def test_doubled_letters_fold_but_numbers_stay_apart() -> None:
    assert NORMALISE("Alliance").compact == NORMALISE("Aliance").compact
    assert NORMALISE("Plant No. 11").compact != NORMALISE("Plant No. 1").compact
    assert NORMALISE("Importer 00000100").compact != NORMALISE("Importer 00000110").compact


@pytest.mark.parametrize(
    "name",
    [
        "НПО «Алмаз»",
        "АО «Научно-Производственное Объединение «Алмаз»",
        "Nauchno-Proizvodstvennoe Obedinenie Almaz",
        "Scientific and Production Association Almaz",
        "Research and Production Association ALMAZ, JSC",
    ],
)
def test_organisation_words_read_the_same_in_every_language(name: str) -> None:
    assert NORMALISE(name).words == ("research", "production", "association", "almaz")


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("Радиофизика", "radiofizika"),  # a word built on "radio", not "radio" itself
        ("Военторг", "voentorg"),
        ("Fabrikant", "fabrikant"),  # "fabrik" + a tail that is no inflection
    ],
)
def test_a_stem_covers_inflections_only(name: str, kept: str) -> None:
    assert NORMALISE(name).words == (kept,)


def test_inflected_organisation_words_meet() -> None:
    plant = NORMALISE("Брянский Электромеханический Завод").words
    assert plant == NORMALISE("Bryansk Electromechanical Plant").words[:0] + plant
    assert "plant" in plant and "electromechanical" in plant
    assert NORMALISE("Izhevsk Radio Plant").words[-1] == "plant"


def test_plain_words_keep_the_name_as_written() -> None:
    form = NORMALISE("OOO Spetsialnyi Tekhnologicheskii Tsentr")
    assert form.words == ("special", "technologies", "centre")
    assert form.plain[0].startswith("spec") and len(form.plain) == 3


def test_latin_look_alikes_inside_cyrillic_words_are_read_as_cyrillic() -> None:
    # "Cepвиc" with Latin C, e, p and c, as the EU Journal prints one listed name
    assert NORMALISE("ООО “Остек-Cepвиc-Texнoлoгия”").words == (
        NORMALISE("ООО “Остек-Сервис-Технология”").words
    )


def test_a_name_in_pinyin_gets_the_syllable_pairs_of_its_characters() -> None:
    characters = NORMALISE("香港凯利实业有限公司")
    for written in ("Xianggang Kaili Shiye Youxian Gongsi", "XIANG GANG KAI LI SHI YE CO LTD"):
        assert NORMALISE(written).pinyin == characters.words
    assert NORMALISE("Vektor Snab LLC").pinyin == ()  # not made of pinyin syllables


@pytest.mark.parametrize(
    "name",
    ["a" * 70_000, "ai" * 3_000, "xian" * 40 + "q", "Ж" * 5_000, "\x00", "\u202e\u202d", ""],
)
def test_hostile_names_normalise_without_error(name: str) -> None:
    # a long run of pinyin-like letters once recursed per letter (RecursionError) and could
    # backtrack exponentially ("xianxian…q")
    form = NORMALISE(name)
    assert form.pinyin == ()
    assert NORMALISE(name) == form


def test_folding_skips_words_no_fold_applies_to_and_only_those() -> None:
    """Issue 16: a word is searched for every fold at once; the result is each fold
    substituted in turn, as before, for words some fold changes and words none does."""
    rules = load_rules().screening
    folds = [(re.compile(pattern), repl) for pattern, repl in rules.folds]
    words = [
        "shchukin", "schetmash", "khimprom", "tzvetmet", "tsentr", "czech", "centr", "kvarc",
        "electronics", "elektrik", "phosfor", "wolfram", "qazaq", "yolka", "yeniseisk",
        "jasmin", "mariia", "ossetiia", "aabbcc", "00123", "2024", "kmz", "o'brien",
    ]  # fmt: skip
    fold = NameNormaliser(rules).fold
    for word in words:
        expected = word
        for pattern, repl in folds:
            expected = pattern.sub(repl, expected)
        assert fold(word) == expected
