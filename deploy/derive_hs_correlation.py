"""Derive ``schemas/rules/hs_correlation.csv`` from the consolidated HS concordances.

Input: ``generator/data/static/HS_consolidated_comtrade_concordances.csv`` of
github.com/harvard-growth-lab/comtrade-conversion-weights (Apache-2.0), one row per
(newer code, older code, relationship, "YYYY to YYYY") link between consecutive vintages,
its codes written as integers (leading zeros lost). Only the HS steps are used
(1996→1992 … 2022→2017; the older rows link to SITC).

Output: one row per six-digit code of an older vintage whose HS 2022 reading is not the
code itself — it no longer exists, or part of it moved (8802.20 → 8806). ``vintage`` is the
newest HS version in which the code had that meaning, ``hs2022`` the HS 2022 subheadings
it chains to (space-separated). Usage:

    python deploy/derive_hs_correlation.py CONCORDANCES.csv HS2022_SUBHEADINGS.csv > out.csv
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

STEPS = ("1996", "2002", "2007", "2012", "2017", "2022")
"""HS vintages in order; a concordance row "2022 to 2017" links HS 2017 codes to HS 2022."""
FIRST = "1992"


def main(concordances: str, hs2022_path: str) -> None:
    with Path(hs2022_path).open(newline="", encoding="utf-8") as handle:
        hs2022 = {row["hs6"] for row in csv.DictReader(handle)}
    # links[newer vintage][older code] = newer codes
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with Path(concordances).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            newer, _, _ = row["adjustment"].partition(" to ")
            if newer not in STEPS:
                continue
            after, before = row["code.after"].zfill(6), row["code.before"].zfill(6)
            if not (after.isdigit() and before.isdigit() and len(after) == len(before) == 6):
                raise SystemExit(f"unexpected codes in {row}")
            links[newer][before].add(after)
    # The check that the zeros were restored right: the HS 2022 side is the nomenclature.
    if {c for codes in links["2022"].values() for c in codes} != hs2022:
        raise SystemExit("HS 2022 side of the concordance is not the HS 2022 nomenclature")
    # reading[vintage][code] = HS 2022 codes, chained newest first.
    vintages = (FIRST, *STEPS[:-1])
    reading: dict[str, dict[str, set[str]]] = {}
    gaps: set[str] = set()
    for index in range(len(vintages) - 1, -1, -1):
        vintage, newer = vintages[index], STEPS[index]
        reading[vintage] = {}
        for code, targets in links[newer].items():
            chained: set[str] = set()
            for target in targets:
                if newer == "2022":
                    chained.add(target)
                elif target in reading[newer]:
                    chained |= reading[newer][target]
                elif target in hs2022:
                    chained.add(target)
                else:  # a newer-vintage code the next step does not list: a gap in the data
                    gaps.add(f"HS{newer} {target}")
            if chained:
                reading[vintage][code] = chained
    seen: set[str] = set()
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["vintage", "hs6", "hs2022"])
    for vintage in reversed(vintages):
        for code in sorted(reading[vintage]):
            targets = reading[vintage][code]
            if code in seen or targets == {code}:
                continue
            seen.add(code)
            out.writerow([f"HS{vintage}", code, " ".join(sorted(targets))])
    print(f"links to codes missing from the next step, left out: {sorted(gaps)}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
