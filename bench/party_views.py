"""What migration 0019 costs and saves on the embedded engine: the CPU of inserting lines
(0007's two name-keyed materialised views no longer fire) and of reading daily_lines and
importer_first_seen (views resolving parties instead of the name-keyed tables).

Each run builds a fresh embedded database with the migrations up to 0018 ("before") or all
of them ("after"), inserts the same enriched lines in batches of 1 000 and times a few reads.
CPU is this process's (chdb runs in it), user + system.

Run: .venv/bin/python -m bench.party_views [--lines N] [--repeat N]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.feed import realistic_lines
from schemas.declaration import Declaration
from schemas.rule_data import load_rules
from schemas.settings import ClickHouseSettings
from stream.stages.enrich import Enricher
from stream.warehouse.client import Warehouse
from stream.warehouse.migrations import migrate, migration_files
from stream.warehouse.rows import DECLARATION_COLUMNS, declaration_row

READS = {
    "value per importer": "SELECT importer_name, sum(lines), sum(value_usd) FROM daily_lines "
    "GROUP BY importer_name",
    "first seen per importer": "SELECT importer_name, min(first_seen), sum(lines) "
    "FROM importer_first_seen GROUP BY importer_name",
}


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(rows: list[list[object]], after: bool, work: Path) -> dict[str, float]:
    ddl = work / "ddl"
    ddl.mkdir()
    for path in migration_files():
        if after or path.name < "0019":
            shutil.copy(path, ddl / path.name)
    warehouse = Warehouse(ClickHouseSettings(dsn=f"chdb://{work / 'ch'}"))
    migrate(warehouse, ddl)
    start = cpu_s()
    for i in range(0, len(rows), 1000):
        warehouse.insert_rows("declarations", rows[i : i + 1000], DECLARATION_COLUMNS, f"b-{i}")
    out = {"insert s": cpu_s() - start}
    for name, sql in READS.items():
        warehouse.query(sql)  # warm
        start = cpu_s()
        for _ in range(5):
            warehouse.query(sql)
        out[f"{name} ms"] = (cpu_s() - start) / 5 * 1000
    warehouse.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lines = [Declaration.model_validate(x) for x in realistic_lines(args.lines, seed=5)]
    rows = [declaration_row(x) for x in Enricher(load_rules()).lines(lines).lines]
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.repeat):
        for label in ("before", "after"):  # alternated
            with tempfile.TemporaryDirectory() as tmp:
                results[label].append(run(rows, label == "after", Path(tmp)))
    for label, runs in results.items():
        medians = {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
        print(label, args.lines, "lines, median of", args.repeat, medians)


if __name__ == "__main__":
    main()
