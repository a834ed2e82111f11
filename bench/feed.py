"""A benchmark feed shaped like a real export, so caches are not flattered (issue 16).

Every description is distinct: an HS 2022 subheading's own text with a made-up model
number, a tenth of them from the CHPL's subheadings so that alerts fire. Parties are many
and uneven: 20 000 importers and 5 000 exporters drawn with Zipf frequencies, about three
lines per declaration. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import random
from bisect import bisect_right
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson

RULES = Path(__file__).resolve().parents[1] / "schemas" / "rules"
DESTINATIONS = ("RU", "RU", "RU", "BY", "KZ", "AM", "KG", "TR", "AE", "UA", "DE", "PL")
EXPORTER_COUNTRIES = ("CN", "CN", "CN", "HK", "TR", "AE", "DE", "US", "IN")
LEGAL_FORMS = ("OOO", "AO", "LLC", "TOO", "Ltd", "GmbH")


def _subheadings() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(hs6, text) of every HS 2022 subheading, and those the CHPL names."""
    with (RULES / "hs2022_subheadings.csv").open(encoding="utf-8") as fh:
        every = [(row["hs6"], row["description"]) for row in csv.DictReader(fh)]
    with (RULES / "chpl.csv").open(encoding="utf-8") as fh:
        chpl_codes = {
            "".join(ch for ch in row.get("hs_code", "") if ch.isdigit())[:6]
            for row in csv.DictReader(fh)
        }
    chpl = [item for item in every if item[0] in chpl_codes]
    return every, chpl or every


class _Zipf:
    """Draw ranks 0..n-1 with probability proportional to 1 / (rank + 1) ** s."""

    def __init__(self, n: int, s: float, rng: random.Random) -> None:
        self._cum = list(accumulate(1.0 / (k + 1) ** s for k in range(n)))
        self._rng = rng

    def draw(self) -> int:
        return bisect_right(self._cum, self._rng.random() * self._cum[-1])


def realistic_lines(
    count: int, seed: int = 1, importers: int = 20_000, exporters: int = 5_000
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    every, chpl = _subheadings()
    importer_rank = _Zipf(importers, 1.05, rng)
    exporter_rank = _Zipf(exporters, 1.05, rng)
    start = date(2024, 1, 1)
    produced = declaration_no = 0
    while produced < count:
        declaration_no += 1
        imp = importer_rank.draw()
        exp = exporter_rank.draw()
        destination = DESTINATIONS[imp % len(DESTINATIONS)]
        dispatch = EXPORTER_COUNTRIES[exp % len(EXPORTER_COUNTRIES)]
        declared_at = start + timedelta(days=rng.randrange(0, 365))
        for line_no in range(1, min(rng.randint(1, 5), count - produced) + 1):
            hs6, text = rng.choice(chpl) if rng.random() < 0.1 else rng.choice(every)
            model = (
                f"{rng.choice('ABCDEFGHKLMNPRSTXZ')}{rng.randrange(10, 9999)}-{rng.randrange(100)}"
            )
            quantity = rng.randint(1, 2_000)
            yield {
                "declaration_id": f"RB-{seed}-{declaration_no:09d}",
                "line_no": line_no,
                "declared_at": declared_at.isoformat(),
                "flow": "export",
                "reporter": dispatch,
                "hs_code": f"{hs6}{rng.randrange(100):02d}",
                "description": f"{text}, model {model}",
                "quantity": quantity,
                "unit": "pcs",
                "value": round(quantity * rng.uniform(0.5, 400.0), 2),
                "currency": "USD",
                "origin_country": dispatch if dispatch != "HK" else "CN",
                "dispatch_country": dispatch,
                "destination_country": destination,
                "exporter_name": f"{LEGAL_FORMS[exp % 6]} Exporter {exp:05d} Trading",
                "exporter_country": dispatch,
                "importer_name": f"{LEGAL_FORMS[imp % 3]} Importer {imp:05d}",
                "importer_country": destination,
                "source_record_id": f"RB-{seed}-{declaration_no:09d}/{line_no}",
            }
            produced += 1


def realistic_jsonl(count: int, seed: int = 1) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in realistic_lines(count, seed))


def write_realistic_jsonl(path: Path, count: int, seed: int = 1) -> None:
    """The same feed written line by line (a backfill file does not fit in memory twice)."""
    with path.open("wb") as out:
        for line in realistic_lines(count, seed):
            out.write(orjson.dumps(line) + b"\n")
