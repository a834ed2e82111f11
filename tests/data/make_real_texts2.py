"""Split the second real-text pool into a dev and a gate part (run once; the output is committed).

The pool (a JSON list, one object per text: ``text``, ``lang``, ``hs_code``, ``source``,
``expected``, ``hard_negative``, ``group``, ``both``) was assembled by hand from public
sources nobody on the team wrote, each text verbatim with its source, and labelled by
reading it before the classifier ran on any of it:

- Ukrainian: an electronics distributor's invoice translation with УКТ ЗЕД codes
  (github.com/AndrewMaksimchuk/uktzed, two xls files), a Ukrainian tariff explainer site
  (github.com/rankingua/-uktzed: product names, position texts, prose) and the Ukrainian
  PX4 user guide (GNSS receivers);
- Chinese: China's customs heading names (github.com/zhaogao/circlePro), thermal-camera
  maker and GNSS-module documentation pages;
- English: HMRC advance tariff ruling texts (github.com/trade-tariff/ai-search-evaluation-suite),
  GNSS / telemetry-radio / microcontroller / thermal-core documentation in public
  repositories, and web pages on thermal cameras, image intensifiers, armour ceramics,
  ballistic helmets, hi-vis vests, hard hats and CCTV cameras.

A text that came with a code appears with it and, when it names a category or is a hard
negative, also without it (``-nc``); an ordinary negative with a code appears once, with
or without it at random, so that hard negatives stay above 40 %. The split is made once,
by group (sentences of one page, or near-copies of one text, stay together), stratified
by the group's first category, with a fixed seed: a third of each stratum is the gate.

    python tests/data/make_real_texts2.py POOL.json
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 15


def main(pool_path: str) -> None:
    pool = json.loads(Path(pool_path).read_text(encoding="utf-8"))
    rng = random.Random(SEED)
    lines: list[dict[str, object]] = []
    for n, item in enumerate(pool, 1):
        versions = [item["hs_code"], ""] if item["both"] and item["hs_code"] else [item["hs_code"]]
        if len(versions) == 2 and not item["expected"] and not item["hard_negative"]:
            versions = [rng.choice(versions)]
        for code in versions:
            lines.append(
                {
                    "id": f"R2-{n:04d}{'' if code else '-nc' if item['hs_code'] else ''}",
                    "lang": item["lang"],
                    "hs_code": code,
                    "description": item["text"],
                    "expected": item["expected"],
                    "misdeclaration": False,
                    "hard_negative": item["hard_negative"],
                    "source": item["source"],
                    "group": item["group"],
                }
            )
    groups: dict[str, list[dict[str, object]]] = {}
    for line in lines:
        groups.setdefault(str(line["group"]), []).append(line)
    strata: dict[str, list[str]] = {}
    for name, members in groups.items():
        labels = sorted({c for m in members for c in m["expected"]})  # type: ignore[attr-defined]
        kind = labels[0] if labels else ("hard" if members[0]["hard_negative"] else "ordinary")
        strata.setdefault(kind, []).append(name)
    gate: list[dict[str, object]] = []
    dev: list[dict[str, object]] = []
    for kind in sorted(strata):
        names = sorted(strata[kind])
        rng.shuffle(names)
        total = sum(len(groups[g]) for g in names)
        taken = 0
        for name in names:
            part = gate if taken < total / 3 else dev
            if part is gate:
                taken += len(groups[name])
            part.extend(groups[name])
    out = Path(__file__).resolve().parent
    for name, part in (("real_texts2_gate", gate), ("real_texts2_dev", dev)):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for line in sorted(part, key=lambda x: str(x["id"])):
                line = {k: v for k, v in line.items() if k != "group"}
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
