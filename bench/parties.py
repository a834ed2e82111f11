"""Party resolution's cost per line on a feed with 20 000 distinct importers, in-process.

The enrich stage is timed over the same lines with party resolution and with it stubbed out
(the stage as before issue 17), twice each: the first pass registers every new written name
(the fuzzy search against the growing registry), the second finds each in the cache.

Run: .venv/bin/python bench/parties.py [--lines N] [--importers N]
"""

from __future__ import annotations

import argparse
import random
import time
from itertools import islice
from typing import Any

from ingest.synthetic import synthetic_lines
from schemas.declaration import Declaration
from schemas.rule_data import default_rules
from stream.stages.enrich import Enricher

SYLLABLES = [
    "ka",
    "to",
    "mi",
    "ra",
    "se",
    "vo",
    "lu",
    "ne",
    "pri",
    "tek",
    "snab",
    "prom",
    "ser",
    "gaz",
    "met",
    "avia",
    "stal",
    "ros",
    "kom",
    "trans",
]
FORMS = ["OOO {}", "ООО «{}»", "{} LLC", "AO {}", "{} Trading Co., Ltd", "TOO {}"]
CYRILLIC = str.maketrans("aeiokmtrsvlnpgzc", "аеиокмтрсвлнпгзц")


def importer_names(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct written importers: invented words in Latin or Cyrillic letters,
    in a legal form, some in two spellings (as feeds write them)."""
    seen: set[str] = set()
    names: list[str] = []
    while len(names) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        if rng.random() < 0.5:
            word += "-" + "".join(rng.choice(SYLLABLES) for _ in range(2)).capitalize()
        form = rng.choice(FORMS)
        name = form.format(word.upper().translate(CYRILLIC) if "ООО" in form else word)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def run(enricher: Enricher, lines: list[Declaration]) -> float:
    started = time.process_time()
    for start in range(0, len(lines), 1000):
        enricher.lines(lines[start : start + 1000])
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--importers", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(17)
    names = importer_names(args.importers, rng)
    raw = list(islice(synthetic_lines(args.lines, seed=17), args.lines))
    lines = []
    for n, row in enumerate(raw):
        # every importer at least once, then a few often (customs feeds repeat their parties)
        name = names[n] if n < len(names) else names[int(rng.paretovariate(1.2)) % len(names)]
        lines.append(Declaration.model_validate({**row, "importer_name": name}))
    rules = default_rules()
    results: dict[str, Any] = {}
    for label in ("without parties", "with parties"):
        enricher = Enricher(rules)
        if label == "without parties":
            enricher.party_fields = lambda fields: {}  # type: ignore[method-assign]
        cold = run(enricher, lines)
        warm = run(enricher, lines)
        results[label] = (cold, warm)
        print(
            f"{label:<16} first pass {len(lines) / cold:>9,.0f} lines/CPU s "
            f"({cold / len(lines) * 1e6:6.1f} µs/line)   second pass {len(lines) / warm:>9,.0f} "
            f"lines/CPU s ({warm / len(lines) * 1e6:6.1f} µs/line)"
        )
    (c0, w0), (c1, w1) = results["without parties"], results["with parties"]
    print(
        f"party resolution: {(c1 - c0) / len(lines) * 1e6:.1f} µs/line on the first pass "
        f"({args.importers} new importers), {(w1 - w0) / len(lines) * 1e6:.1f} µs/line cached"
    )


if __name__ == "__main__":
    main()
