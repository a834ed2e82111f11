"""Build the real-text sets from the HS 2022 nomenclature (run once; the output is committed).

Every description is an official HS 2022 English text, verbatim, from
github.com/datasets/harmonized-system ``data/harmonized-system.csv`` at commit 905e5a0 (UN
Comtrade; ODC-PDDL-1.0), as copied in the team's ``../shared/research/hs2022-nomenclature.csv``.
Labels were decided from the nomenclature's meaning, code by code, before the classifier was
run on them (``POSITIVE``, ``HARD``, ``AMBIGUOUS`` below). Each text appears twice: with its
own code, and with the code withheld (``hs_code: ""``), so a line is also read from its text
alone. The split is made once, by text (a heading and its only subheading share one), with a
fixed seed: a third is the gate.

Russian: the ТН ВЭД ЕАЭС heading texts (4 digits) from the Federal Tax Service reference as
exported in github.com/DE-Alex/Tnved ``tmp/tnved3.csv`` at commit 523831f (``group|heading|
text|valid from|valid to``), the newest text of each heading, labelled by the same tables
and split on their own with the same seed (so the English split stays as it was), appended.

    git -C MIRROR show 523831f:tmp/tnved3.csv > tnved3.csv
    python tests/data/make_real_texts.py ../shared/research/hs2022-nomenclature.csv tnved3.csv
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

SOURCE = (
    "github.com/datasets/harmonized-system data/harmonized-system.csv@905e5a0 "
    "(UN Comtrade HS 2022, ODC-PDDL-1.0), row {code}"
)
SEED = 15
ORDINARY = 160
"""Ordinary goods drawn at random from the rest of the nomenclature."""
POSITIVE = {
    "uav": ("8806",),
    "weapon_optics": ("901310",),
    "night_vision": ("852583",),
    "microelectronics": ("8542", "854231", "854232", "854233", "854239"),
    "firearms": ("9301", "9302", "9303", "930310", "930320", "930330"),
}
"""Codes whose text names the category (a prefix covers the heading and its subheadings)."""
AMBIGUOUS = (
    "854020", "852691", "8526", "880730", "880790", "880710", "880720", "8807", "9305",
    "854290", "900580", "930390", "901420", "901480", "901490", "852560", "851762", "852910",
    "8529",
)  # fmt: skip
"""Texts that could go either way (image tubes, navigation aids, parts): left out."""
HARD = (
    "65", "69", "93", "95", "6211", "6217", "3926", "2849", "8517", "8525", "8526", "8527",
    "8528", "8529", "8540", "8541", "8542", "8543", "8801", "8802", "8803", "8804", "8805",
    "8807", "9001", "9002", "9004", "9005", "9006", "9013", "9014", "9015", "8471", "8473",
)  # fmt: skip
"""Chapters and headings sharing a word or a code with a category: their other texts are
hard negatives (safety headgear, ceramic wares, air guns, toys, binoculars, cameras, radar,
diodes, piloted aircraft, lasers)."""


def label(code: str) -> list[str] | None:
    """The true categories, or None when the text is left out as ambiguous."""
    positive = any(code.startswith(p) for ps in POSITIVE.values() for p in ps)
    if not positive and any(code.startswith(a) for a in AMBIGUOUS):
        return None
    return sorted(
        c for c, prefixes in POSITIVE.items() if any(code.startswith(p) for p in prefixes)
    )


RU_SOURCE = (
    "github.com/DE-Alex/Tnved tmp/tnved3.csv@523831f (ТН ВЭД ЕАЭС headings, FNS reference), "
    "heading {code} valid from {since}"
)
RU_ORDINARY = 80

Entry = tuple[str, str, list[str], bool]


def split(entries: list[Entry], rng: random.Random) -> tuple[list[Entry], list[Entry]]:
    """A third of the texts to the gate; one text never in both parts."""
    by_text: dict[str, list[Entry]] = {}
    for entry in entries:
        by_text.setdefault(entry[1], []).append(entry)
    texts = sorted(by_text)
    rng.shuffle(texts)
    gate: list[Entry] = []
    dev: list[Entry] = []
    for text in texts:
        (gate if len(gate) < len(entries) // 3 else dev).extend(by_text[text])
    return gate, dev


def write(path: Path, part: list[Entry], lang: str, source: str, since: dict[str, str]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for code, text, expected, hard in sorted(part):
            for suffix, declared in (("", code), ("-nc", "")):
                item = {
                    "id": f"{lang.upper()}{code}{suffix}",
                    "lang": lang,
                    "hs_code": declared,
                    "description": text,
                    "expected": expected,
                    "misdeclaration": False,
                    "hard_negative": hard,
                    "source": source.format(code=code, since=since.get(code, "")),
                }
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")


def russian(path: str, out: Path) -> None:
    newest: dict[str, tuple[str, str]] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            group, heading, text, since, _ = line.rstrip("\n").split("|")
            code = group + heading
            if code not in newest or since > newest[code][1]:
                newest[code] = (text.strip().rstrip(":"), since)
    chosen: list[Entry] = []
    ordinary: list[Entry] = []
    for code, (text, _) in sorted(newest.items()):
        expected = label(code)
        if expected is None:
            continue
        hard = not expected and any(code.startswith(h) for h in HARD)
        (chosen if expected or hard else ordinary).append((code, text, expected, hard))
    rng = random.Random(SEED)
    chosen += rng.sample(ordinary, RU_ORDINARY)
    gate, dev = split(chosen, rng)
    since = {code: s for code, (_, s) in newest.items()}
    write(out / "real_texts_gate.jsonl", gate, "ru", RU_SOURCE, since)
    write(out / "real_texts_dev.jsonl", dev, "ru", RU_SOURCE, since)


def main(nomenclature: str, tnved: str | None = None) -> None:
    with Path(nomenclature).open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["level"] in ("4", "6")]
    chosen: list[tuple[str, str, list[str], bool]] = []
    ordinary = []
    for row in rows:
        code, text = row["hscode"], row["description"]
        expected = label(code)
        if expected is None:
            continue
        hard = not expected and any(code.startswith(h) for h in HARD)
        if expected or hard:
            chosen.append((code, text, expected, hard))
        else:
            ordinary.append((code, text, expected, False))
    rng = random.Random(SEED)
    chosen += rng.sample(ordinary, ORDINARY)
    # A heading with a single subheading has the same text twice: split by text, not by code.
    by_text: dict[str, list[tuple[str, str, list[str], bool]]] = {}
    for entry in chosen:
        by_text.setdefault(entry[1], []).append(entry)
    texts = sorted(by_text)
    rng.shuffle(texts)
    gate: list[tuple[str, str, list[str], bool]] = []
    dev: list[tuple[str, str, list[str], bool]] = []
    for text in texts:
        (gate if len(gate) < len(chosen) // 3 else dev).extend(by_text[text])
    out = Path(__file__).resolve().parent
    for name, part in (("real_texts_gate", gate), ("real_texts_dev", dev)):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for code, text, expected, hard in sorted(part):
                for suffix, declared in (("", code), ("-nc", "")):
                    item = {
                        "id": f"N{code}{suffix}",
                        "lang": "en",
                        "hs_code": declared,
                        "description": text,
                        "expected": expected,
                        "misdeclaration": False,
                        "hard_negative": hard,
                        "source": SOURCE.format(code=code),
                    }
                    handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    if tnved is not None:
        russian(tnved, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
