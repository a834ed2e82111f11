"""Per-stage CPU cost for one 1 000-line raw batch, in-process (no broker): where time goes.

Run: .venv/bin/python bench/stages.py
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Callable
from typing import Any

import orjson

from ingest.synthetic import synthetic_lines
from schemas.declaration import DeclarationBatch, RawRef
from schemas.raw import RawBatch, RawRecord, payload_checksum
from schemas.rule_data import default_rules
from schemas.settings import ClickHouseSettings
from stream.stages.enrich import Enricher
from stream.stages.parse import parse_message
from stream.warehouse.client import Warehouse
from stream.warehouse.migrations import migrate
from stream.warehouse.rows import insert_declarations

LINES = 1000


def timed(name: str, call: Callable[[], Any], repeat: int = 10) -> Any:
    started = time.perf_counter()
    for _ in range(repeat):
        result = call()
    ms = (time.perf_counter() - started) / repeat * 1000
    print(f"{name:<28} {ms:8.2f} ms/batch  {LINES / ms * 1000:>10,.0f} lines/s")
    return result


def main() -> None:
    payloads = [orjson.dumps(x) for x in synthetic_lines(LINES)]
    raw = RawBatch(
        source="jsonl",
        origin="f",
        records=[
            RawRecord(
                source="jsonl", origin="f", position=i, payload=p, checksum=payload_checksum(p)
            )
            for i, p in enumerate(payloads, 1)
        ],
    )
    value = raw.model_dump_json().encode()
    ref = RawRef(topic="t", partition=0, offset=0)
    parsed = timed("parse (raw JSON → lines)", lambda: parse_message(value, ref, "jsonl"))
    batch = DeclarationBatch(source="jsonl", raw=ref, lines=parsed.lines)
    encoded = timed("declarations: dump", lambda: batch.model_dump_json().encode())
    decoded = timed("declarations: validate", lambda: DeclarationBatch.model_validate_json(encoded))
    enricher = Enricher(default_rules())
    enriched, _ = timed("enrich (normalise+classify+alert)", lambda: enricher.batch(decoded))
    timed("enriched: dump", lambda: enriched.model_dump_json().encode())
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse(ClickHouseSettings(dsn=f"chdb://{tmp}/ch"))
        migrate(warehouse)
        tokens = itertools.count()
        timed(
            "clickhouse insert",
            lambda: insert_declarations(warehouse, enriched.lines, f"t{next(tokens)}"),
        )
        warehouse.close()


if __name__ == "__main__":
    main()
