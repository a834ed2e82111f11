"""Build ``party_spellings.jsonl``: the ways a customs feed writes one company's name.

``party_clusters.jsonl`` holds every alias an EU regulation gives a listed company; most
pairs there are translations and acronyms, which no spelling comparison joins. A customs
declaration, though, writes the *same* name in other letters and layouts: the Cyrillic
original, upper case, another Romanisation of it (passport, GOST, BGN/PCGN, bank and map
systems all differ), the legal form kept, translated or moved behind the name. This set
takes one real Cyrillic name per listed company (the shortest original carrying a Russian
legal-form abbreviation, else the shortest original) and writes it in those ways with the
transliteration systems of the ``iuliia`` package (each one a published standard or house
rule); nothing about the names is written by hand. Different companies with alike names
are the near-misses that come with the source. The cluster set's dev/gate split is kept.

Chinese companies the same way: one real Han name per listed company (the longest), as
written, in the other Chinese script (OpenCC), and in pinyin (pypinyin, words cut by jieba)
as exporters write it: words in title case, the legal form in English behind the name
("Guangzhou Ousai Keji Co., Ltd."), syllables in upper case.

Run: python tests/data/build_party_spellings.py   (needs the dev extras: iuliia, pypinyin,
jieba, opencc-purepy)
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import iuliia
import jieba
import opencc_purepy
from pypinyin import lazy_pinyin

HERE = Path(__file__).parent
SCHEMAS = [
    iuliia.ICAO_DOC_9303,  # Russian passports since 2014
    iuliia.BGN_PCGN,
    iuliia.GOST_779_ALT,
    iuliia.MOSMETRO,
    iuliia.WIKIPEDIA,
    iuliia.YANDEX_MONEY,  # bank cards
    iuliia.TELEGRAM,
    iuliia.MVD_782,  # old passports
    iuliia.SCIENTIFIC,
    iuliia.ALA_LC_ALT,
]
# A Russian legal-form abbreviation at the start and its usual English rendering.
FORMS = {"ООО": "LLC", "АО": "JSC", "ПАО": "PJSC", "ОАО": "OJSC", "ЗАО": "CJSC"}
_LEADING_FORM = re.compile(r"^(ООО|АО|ПАО|ОАО|ЗАО)\s+(.+)$")
_QUOTES = re.compile(r'[«»"“„]')


def _pick(options: list[iuliia.Schema], key: str, salt: str) -> iuliia.Schema:
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return options[digest[0] % len(options)]


def source_name(names: list[dict[str, str]]) -> str | None:
    originals = [n["name"] for n in names if n["script"] == "cyrillic" and n["form"] == "original"]
    with_form = [n for n in originals if _LEADING_FORM.match(n)]
    pool = with_form or originals
    return min(pool, key=len) if pool else None


def spellings(name: str) -> list[str]:
    """The Cyrillic name as written, upper case, and four Romanisations with the legal form
    kept, dropped of its quotes, translated behind the name and upper-cased."""
    first = _pick(SCHEMAS, name, "a")
    second = _pick([s for s in SCHEMAS if s is not first], name, "b")
    third = _pick([s for s in SCHEMAS if s not in (first, second)], name, "c")
    out = [name, name.upper(), first.translate(name)]
    out.append(" ".join(_QUOTES.sub(" ", second.translate(name)).split()).upper())
    leading = _LEADING_FORM.match(name)
    if leading:
        core = " ".join(_QUOTES.sub(" ", third.translate(leading.group(2))).split())
        out.append(f"{core}, {FORMS[leading.group(1)]}")
    else:
        out.append(third.translate(name).replace("«", '"').replace("»", '"'))
    seen: set[str] = set()
    return [s for s in out if not (s in seen or seen.add(s))]


def build_rows() -> list[dict[str, str]]:
    """Every row of the set, in the order of the cluster set."""
    clusters: dict[str, list[dict[str, str]]] = {}
    for line in (HERE / "party_clusters.jsonl").read_text(encoding="utf-8").splitlines():
        if line:
            record = json.loads(line)
            clusters.setdefault(record["cluster"], []).append(record)
    rows = []
    for cluster, names in clusters.items():
        written = [(name, spellings(name)) for name in [source_name(names)] if name]
        written += [(name, han_spellings(name)) for name in [han_source(names)] if name]
        for name, variants in written:
            rows.extend(_rows(cluster, names, name, variants))
    return rows


def _rows(
    cluster: str, names: list[dict[str, str]], name: str, variants: list[str]
) -> list[dict[str, str]]:
    return [
        {
            "name": spelling,
            "cluster": cluster,
            "written_from": name,
            "part": names[0]["part"],
            "source": names[0]["source"],
        }
        for spelling in variants
    ]


_ALL_HAN = re.compile(r"[\u4e00-\u9fff]{4,}")
# Chinese legal forms at the end of a name and the English an exporter writes for them.
_HAN_FORMS = {"股份有限公司": "Co., Ltd.", "有限责任公司": "Co., Ltd.", "有限公司": "Co., Ltd."}
_TO_TRADITIONAL = opencc_purepy.OpenCC("s2t")
_TO_SIMPLIFIED = opencc_purepy.OpenCC("t2s")
jieba.setLogLevel(60)


def _pinyin_words(text: str) -> list[str]:
    """Pinyin of the whole text (pypinyin reads heteronyms in context), grouped into the
    words jieba cuts; a word of four characters or more in pairs ("youxian gongsi")."""
    syllables = lazy_pinyin(text)
    words: list[str] = []
    at = 0
    for word in jieba.cut(text):
        size = len(word)
        pieces = [2] * (size // 2) + ([1] if size % 2 else []) if size >= 4 else [size]
        for piece in pieces:
            words.append("".join(syllables[at : at + piece]))
            at += piece
    return [w for w in words if w.strip()]


def han_spellings(name: str) -> list[str]:
    simplified = _TO_SIMPLIFIED.convert(name)
    other = _TO_TRADITIONAL.convert(name) if simplified == name else simplified
    out = [name, other, " ".join(w.capitalize() for w in _pinyin_words(simplified))]
    for form, english in _HAN_FORMS.items():
        if simplified.endswith(form):
            core = simplified[: -len(form)]
            out.append(" ".join(w.capitalize() for w in _pinyin_words(core)) + f" {english}")
            break
    out.append(" ".join(lazy_pinyin(simplified)).upper())
    seen: set[str] = set()
    return [s for s in out if not (s in seen or seen.add(s))]


def han_source(names: list[dict[str, str]]) -> str | None:
    # Han characters only: pypinyin and jieba then see the same characters
    han = [n["name"] for n in names if n["script"] == "han" and _ALL_HAN.fullmatch(n["name"])]
    return max(han, key=len) if han else None


def main() -> None:
    rows = build_rows()
    target = HERE / "party_spellings.jsonl"
    with target.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} written names of {len({r['cluster'] for r in rows})} companies")


if __name__ == "__main__":
    main()
