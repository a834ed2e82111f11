"""Build ``party_clusters.jsonl`` from the EU Official Journal sanctions tables kept by
OpenSanctions (github.com/opensanctions/opensanctions, ``datasets/eu/journal_sanctions/data/
consolidated/<CELEX>.csv``, commit recorded in each line).

One cluster per listed company: its listed name and every alias the regulation gives,
each alias as its own written name (an abbreviation in brackets after a full name is
split off). A company listed under two regulations or annexes is one cluster: records
sharing a written name (case and quotes aside) or an identifier are joined. Source noise
("Text of image", "Chinese:") is dropped. Nothing is written by hand; the selection rule
is fixed here, before any tuning: companies (not persons, not "so-called" republics),
with at least one name in another script than the listed name's or a tax/registration
number. Every third company (by its position in the file) goes to the held-out gate part.

Run: python tests/data/build_party_clusters.py /path/to/mirror/repo COMMIT
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

CELEX = ("32014R0833", "32006R0765", "32014R0269")
_BRACKET = re.compile(r"^(.*?)\s*\(([^()]+)\)\s*$")
_INN = re.compile(r"\b(\d{10}|\d{12})\b")
_OGRN = re.compile(r"\b(\d{13}|\d{15})\b")
_USCC = re.compile(r"\b([0-9A-HJ-NPQRTUWXY]{18})\b")


def script(text: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", text):
        return "han"
    if re.search(r"[\u0400-\u04ff]", text):
        return "cyrillic"
    if re.search(r"[\u0600-\u06ff]", text):
        return "arabic"
    return "latin"


# Russian and Belarusian legal forms as written when a name is transliterated rather than
# translated (JSC, LLC are translations): a Latin name carrying one is a spelling of the
# Cyrillic name, the kind of variant customs declarations show.
_TRANSLIT_FORMS = re.compile(
    r"(?<![A-Za-z])(OOO|OAO|ZAO|PAO|AO|ODO|ChUP|OOO|Obshchestvo|Aktsionernoe)(?![A-Za-z])"
)
_CYR_FORMS = re.compile(
    r"(?<![\w])(ООО|ОАО|ЗАО|ПАО|АО|ОДО|ЧУП|ИООО|ТАА|ААТ|ЗТАА|Общество|Акционерное|Открытое"
    r"|Закрытое|Публичное|Федеральное|Государственное|Унитарное|Предприятие|Бюджетное"
    r"|Учреждение|ограниченной|ответственностью)(?![\w])",
    re.IGNORECASE,
)


def form(name: str) -> str:
    """What kind of written name: ``acronym`` (one short capitalised word once legal
    forms and quotes are gone), ``original`` (Cyrillic or Chinese), ``transliteration``
    (Latin with a transliterated Russian legal form) or ``other`` (translations, trade
    names)."""
    kind = script(name)
    core = _CYR_FORMS.sub(" ", _TRANSLIT_FORMS.sub(" ", name))
    core = re.sub(r"[\W_]+", " ", core).strip()
    if not core or (" " not in core and len(core) <= 6 and core.upper() == core):
        return "acronym"
    if kind in ("cyrillic", "han"):
        return "original"
    if kind == "latin" and _TRANSLIT_FORMS.search(name):
        return "transliteration"
    return "other"


def names(row: dict[str, str]) -> list[str]:
    out: list[str] = []
    for part in [row["name"], *row["alias"].split(";")]:
        piece = part.strip()
        match = _BRACKET.match(piece)
        if match and match.group(1):
            out.extend([match.group(1).strip(), match.group(2).strip()])
        elif piece:
            out.append(piece)
    seen: dict[str, None] = {}
    for n in out:
        if (
            len(n) >= 2
            and re.search(r"\w", n)
            and not n.endswith(":")
            and "text of image" not in n.lower()
        ):
            seen.setdefault(n, None)
    return list(seen)


def identifiers(row: dict[str, str]) -> list[str]:
    text = " ".join(row[k] for k in ("registrationNumber", "taxNumber", "innCode", "ogrnCode"))
    found = _INN.findall(text) + _OGRN.findall(text) + _USCC.findall(text)
    return list(dict.fromkeys(found))


def same_name(name: str) -> str:
    return re.sub(r"[\W_]+", " ", name.casefold()).strip()


class Joined:
    """Union-find over cluster ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def main(repo: str, commit: str) -> None:
    csv.field_size_limit(10**8)
    lines: list[dict[str, object]] = []
    position = 0
    for celex in CELEX:
        path = f"datasets/eu/journal_sanctions/data/consolidated/{celex}.csv"
        text = subprocess.run(
            ["git", "-C", repo, "show", f"{commit}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for row in csv.DictReader(text.splitlines()):
            if row["schema"] == "Person" or row["name"].lower().startswith("so-called"):
                continue
            written = names(row)
            scripts = {script(n) for n in written}
            ids = identifiers(row)
            if len(written) < 2 or (len(scripts) < 2 and not ids):
                continue
            cluster = f"{celex}-{row['annex']}-{row['recordId']}"
            part = "gate" if position % 3 == 2 else "dev"
            position += 1
            country = (row["country"] or row["jurisdiction"] or "").split(";")[0].strip()
            for name in written:
                lines.append(
                    {
                        "name": name,
                        "cluster": cluster,
                        "script": script(name),
                        "form": form(name),
                        "country": country or None,
                        "part": part,
                        "ids": ids,
                        "source": f"opensanctions/opensanctions@{commit[:12]}:{path} recordId "
                        f"{row['recordId']} annex {row['annex']}",
                    }
                )
    joined = Joined()
    first: dict[str, str] = {}
    for line in lines:
        for key in [same_name(str(line["name"])), *(f"id:{i}" for i in line.pop("ids"))]:
            joined.join(first.setdefault(key, str(line["cluster"])), str(line["cluster"]))
    parts: dict[str, str] = {}
    for line in lines:
        line["cluster"] = joined.find(str(line["cluster"]))
        # the part of a joined cluster is the part of its first record
        line["part"] = parts.setdefault(str(line["cluster"]), str(line["part"]))
    out = Path(__file__).with_name("party_clusters.jsonl")
    with out.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(len(lines), "names", len({line["cluster"] for line in lines}), "clusters")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
