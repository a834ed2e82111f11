"""A synthetic watchlist of invented parties, and name queries against it, for benchmarks.

Companies are Russian-style (Cyrillic words built from syllables, with a Latin alias the way
lists carry both), Chinese (Han characters with a pinyin alias), and Latin-script trading
firms in third countries; persons have Cyrillic full names with a Latin alias. Queries mix
variants of listed names (other script, legal form, word order, a typo) with unlisted names
made the same way, as a feed would.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from anyascii import anyascii

from schemas.watchlist import Identifier, WatchlistEntry

RU_SYLLABLES = [
    "ра",
    "то",
    "ком",
    "тех",
    "снаб",
    "про",
    "мет",
    "ал",
    "ин",
    "вест",
    "гор",
    "лес",
    "мор",
    "нефть",
    "газ",
    "стр",
    "ой",
    "рос",
    "тор",
    "сиб",
    "дал",
    "вос",
    "зап",
    "юг",
    "сев",
    "ка",
    "ли",
    "на",
    "ве",
    "кт",
    "ор",
    "пл",
    "ас",
    "эн",
    "ерг",
    "ма",
    "ш",
    "ав",
    "то",
    "эл",
    "ек",
    "тр",
    "он",
    "ик",
    "а",
    "зо",
    "ил",
    "ит",
    "ус",
    "кр",
    "им",
    "ба",
    "рс",
    "ву",
    "ль",
    "ка",
    "н",
    "ти",
    "та",
    "н",
    "ни",
    "ко",
    "ла",
    "фе",
    "р",
    "ум",
    "дон",
    "бор",
]
RU_LEGAL = ("ООО", "АО", "ПАО", "ЗАО", "ООО", "ООО", "ТОО", "ОАО")
LATIN_LEGAL = ("LLC", "JSC", "Ltd", "Limited", "FZE", "FZCO", "GmbH", "A.S.", "LLP", "Co., Ltd")
GENERIC = ("Trade", "Group", "Holding", "Logistics", "Import", "Export", "Service", "Tech")
HAN = (
    "华信达通宏泰安盛源兴德隆光明东方中科电子精密陶瓷防护装备贸易进出口国际实业科技"
    "新远航天宇恒瑞丰海洋金属材料机械设备光电仪器通讯网络智能制造发展集团长城创新"
)
CITIES = ("深圳", "上海", "广州", "大连", "宁波", "香港", "义乌", "武汉", "天津", "厦门")
SURNAMES = [
    "Иванов",
    "Петров",
    "Смирнов",
    "Кузнецов",
    "Соколов",
    "Попов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
]
FIRST = [
    "Сергей",
    "Андрей",
    "Алексей",
    "Дмитрий",
    "Олег",
    "Игорь",
    "Павел",
    "Михаил",
    "Юрий",
    "Виктор",
]
PATRONYMIC = ["Петрович", "Иванович", "Сергеевич", "Олегович", "Юрьевич", "Викторович", "Павлович"]
COUNTRIES = ("ru", "ru", "ru", "by", "cn", "hk", "ae", "tr", "kz", "am", "kg", "uz")


def _ru_word(rng: random.Random) -> str:
    return "".join(rng.choice(RU_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _han_name(rng: random.Random) -> str:
    body = "".join(rng.choice(HAN) for _ in range(rng.randint(4, 8)))
    return rng.choice(CITIES) + body + "有限公司"


def _entry(rng: random.Random, number: int) -> WatchlistEntry:
    kind = rng.random()
    aliases: list[str] = []
    if kind < 0.55:
        words = " ".join(_ru_word(rng) for _ in range(rng.randint(1, 3)))
        name = f'{rng.choice(RU_LEGAL)} "{words}"'
        aliases.append(f"{anyascii(words)} {rng.choice(LATIN_LEGAL)}")
        schema, country = "Company", rng.choice(("ru", "ru", "by", "kz"))
    elif kind < 0.75:
        name = _han_name(rng)
        aliases.append(anyascii(name))
        schema, country = "Company", rng.choice(("cn", "hk"))
    elif kind < 0.9:
        words = " ".join(anyascii(_ru_word(rng)) for _ in range(rng.randint(1, 2)))
        name = f"{words} {rng.choice(GENERIC)} {rng.choice(LATIN_LEGAL)}"
        schema, country = "Company", rng.choice(COUNTRIES)
    else:
        name = f"{rng.choice(SURNAMES)} {rng.choice(FIRST)} {rng.choice(PATRONYMIC)}"
        aliases.append(anyascii(name))
        schema, country = "Person", "ru"
    identifiers = []
    if schema == "Company" and rng.random() < 0.3:
        identifiers.append(Identifier(value=str(rng.randrange(10**9, 10**10)), scheme="innCode"))
    return WatchlistEntry.model_validate(
        {
            "id": f"syn-{number:08d}",
            "dataset": "synthetic",
            "schema": schema,
            "name": name,
            "aliases": aliases,
            "countries": [country],
            "identifiers": identifiers,
        }
    )


def synthetic_entries(names: int, seed: int = 11) -> Iterator[WatchlistEntry]:
    """Entries until about ``names`` names (name + aliases) were produced."""
    rng = random.Random(seed)
    produced = number = 0
    while produced < names:
        entry = _entry(rng, number)
        number += 1
        produced += len(entry.all_names())
        yield entry


def _typo(rng: random.Random, text: str) -> str:
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 8:
        return text
    at = rng.choice(letters[2:-2])
    return text[:at] + text[at + 1 :]


def variant(rng: random.Random, entry: WatchlistEntry) -> str:
    """A listed name as a declaration might write it."""
    name = rng.choice(entry.all_names())
    roll = rng.random()
    if roll < 0.3:
        return anyascii(name).upper()
    if roll < 0.5:
        return _typo(rng, name)
    if roll < 0.7:
        return f"{name}, {rng.choice(LATIN_LEGAL)}"
    return name.replace('"', "«", 1).replace('"', "»", 1)


def queries(
    entries: list[WatchlistEntry], count: int, listed_share: float = 0.3, seed: int = 5
) -> list[tuple[str, bool]]:
    """``(name, from_the_list)`` pairs; unlisted names come from a different seed."""
    rng = random.Random(seed)
    unlisted = synthetic_entries(10 * count, seed=seed + 1000)
    out: list[tuple[str, bool]] = []
    for _ in range(count):
        if rng.random() < listed_share:
            out.append((variant(rng, rng.choice(entries)), True))
        else:
            out.append((next(unlisted).name, False))
    return out
