"""normalise + classify lines/s on one core, on realistic multilingual lines.

Lines: the labelled development set (English, Russian, Ukrainian, Chinese; short upper-case
fragments to ruling-style prose) plus the synthetic feed, cycled to --lines. Two runs:
"distinct" gives every line its own article number so no description repeats (the
classifier's per-description cache never hits: the cold cost), "repeating" cycles the same
descriptions as feeds do. Then the whole Enricher.line (model construction and alert rules
included) for context. Target: >= 50 000 lines/s for normalise + classify.

Each line's evidence models are built in the timed loop (``found.evidence``), as every
consumer of a classification does: a result keeps its evidence as plain values and builds
the pydantic models when asked, so a loop that never asked would not count their cost.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
from pathlib import Path

from ingest.synthetic import synthetic_lines
from schemas.declaration import Declaration
from schemas.rule_data import default_rules
from stream.evaluate import load_labelled
from stream.stages.classify import Classifier
from stream.stages.enrich import Enricher
from stream.stages.normalise import Normaliser

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data" / "labelled_lines.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    rules = default_rules()
    samples = [
        Declaration.model_validate(
            {
                "declaration_id": f"B{i}",
                "line_no": 1,
                "declared_at": "2024-05-01",
                "flow": "import",
                "hs_code": item["hs_code"],
                "description": item["description"],
                "origin_country": "Китай",
                "destination_country": "RU",
                "unit": "шт",
            }
        )
        for i, item in enumerate(load_labelled(LABELLED))
    ]
    samples += [Declaration.model_validate(x) for x in synthetic_lines(len(samples), seed=3)]
    cycled = list(itertools.islice(itertools.cycle(samples), args.lines))
    distinct = [
        line.model_copy(update={"description": f"{line.description} art. {i}"})
        for i, line in enumerate(cycled)
    ]
    chars = sum(len(x.description) for x in samples) / len(samples)

    def run(lines: list[Declaration]) -> tuple[float, float]:
        """Lines per second of wall time and of this process's CPU time (the CPU figure
        stays meaningful when other work shares the cores)."""
        normalise, classify = Normaliser(rules), Classifier(rules)
        started, cpu = time.perf_counter(), time.process_time()
        for line in lines:
            hs, _ = normalise.hs(line.hs_code)
            normalise.country(line.origin_country)
            normalise.country(line.destination_country)
            normalise.unit(line.unit)
            classify(hs, line.description).evidence  # noqa: B018 (built as consumers do)
        wall = time.perf_counter() - started
        return len(lines) / wall, len(lines) / (time.process_time() - cpu)

    (distinct_rate, distinct_cpu), (repeating_rate, _) = run(distinct), run(cycled)
    lines = cycled
    enricher = Enricher(rules)
    started = time.perf_counter()
    for line in lines[: args.lines // 4]:
        enricher.line(line)
    enrich_s = (time.perf_counter() - started) * 4

    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {len(samples)} distinct lines, "
        f"{chars:.0f} chars of description on average, cycled to {args.lines}"
    )
    print(
        f"normalise + classify, distinct descriptions: {distinct_rate:,.0f} lines/s (one core; "
        f"{distinct_cpu:,.0f} per CPU second)"
    )
    print(f"normalise + classify, repeating descriptions: {repeating_rate:,.0f} lines/s")
    print(f"Enricher.line (stages + models + alert rules): {args.lines / enrich_s:,.0f} lines/s")


if __name__ == "__main__":
    main()
