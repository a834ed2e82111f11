"""Party resolution's cost per line on a feed with 20 000 distinct importers, in-process.

The enrich stage is timed over the same lines with party resolution and with it stubbed out:
the first pass registers every new written name (the fuzzy search against the growing
registry); later passes, alternated, find each in the cache.

Run: .venv/bin/python bench/parties.py [--lines N] [--importers N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from itertools import islice

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
    n = len(lines)
    # first pass: every importer new (with) against the stage with resolution stubbed out
    with_parties, without = Enricher(rules), Enricher(rules)
    resolve = with_parties.party_fields
    without.party_fields = lambda fields: {}  # type: ignore[method-assign]
    cold_with, cold_without = run(with_parties, lines), run(without, lines)
    # later passes, alternated (other work shares the machine): every name cached
    warm_with, warm_without = [], []
    for _ in range(3):
        warm_with.append(run(with_parties, lines))
        warm_without.append(run(without, lines))
    fields = [dict(x) for x in lines]
    started = time.process_time()
    for f in fields:
        resolve(f)
    alone = time.process_time() - started
    registry = with_parties.parties.registry
    print(f"{n} lines, {args.importers} distinct importers; registry: {len(registry.names)} names")
    print(f"{len(registry.merged)} merges")
    for label, cold, warm in (
        ("with parties", cold_with, statistics.median(warm_with)),
        ("stubbed out", cold_without, statistics.median(warm_without)),
    ):
        print(
            f"{label:<13} first pass {n / cold:>7,.0f} lines/CPU s ({cold / n * 1e6:6.1f} µs/line)"
            f"   cached (median of 3) {n / warm:>7,.0f} lines/CPU s ({warm / n * 1e6:6.1f} µs/line)"
        )
    print(
        f"party resolution alone, cached: {alone / n * 1e6:.1f} µs/line; first pass: "
        f"{(cold_with - cold_without) / n * 1e6:.1f} µs/line more "
        f"({(cold_with - cold_without) / args.importers * 1e3:.2f} ms per new importer)"
    )


if __name__ == "__main__":
    main()
