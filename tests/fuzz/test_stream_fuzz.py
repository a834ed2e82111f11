"""Fuzz parse → enrich → ClickHouse rows with hostile raw messages, on the real engine.

Whatever the parse stage lets through, the enrich stage either enriches or rejects with a
reason, and every enriched line is a row the ``declarations`` table accepts: the model's
ranges keep out what its columns cannot hold (one bad value must never fail a 10 000-row
insert of other lines).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.formats.tabular.catalog import MappingCatalog
from schemas.declaration import RawRef
from schemas.rule_data import default_rules
from schemas.settings import ClickHouseSettings
from stream.stages.enrich import Enricher
from stream.stages.parse import TabularReader, parse_message
from stream.warehouse.client import Warehouse
from stream.warehouse.migrations import migrate
from stream.warehouse.rows import insert_declarations
from tests.fuzz.hostile import hostile_cases

CASES = int(os.environ.get("CUSTOMS_WATCH_FUZZ_CASES", "400"))
REF = RawRef(topic="fuzz.raw.any", partition=0, offset=0)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path: Path = tmp_path_factory.mktemp("fuzz-ch")
    wh = Warehouse(ClickHouseSettings(dsn=f"chdb://{path}"))
    migrate(wh)
    try:
        yield wh
    finally:
        wh.close()


def test_every_parsed_line_is_enriched_or_rejected_and_every_enriched_line_inserts(
    warehouse: Warehouse,
) -> None:
    reader = TabularReader(MappingCatalog(None))
    enricher = Enricher(default_rules())
    parsed = enriched = rejected = 0
    pending = []
    for n, case in enumerate(hostile_cases(CASES, seed=41)):
        lines = parse_message(case.value, REF, "fuzz", reader).lines
        done = enricher.lines(lines, REF)
        assert len(done.lines) + len(done.rejected) == len(lines), case.mutation
        assert all(reason for _, reason in done.rejected)
        parsed += len(lines)
        enriched += len(done.lines)
        rejected += len(done.rejected)
        pending.extend(done.lines)
        if len(pending) >= 2000 or n == CASES - 1:
            insert_declarations(warehouse, pending, f"fuzz-{n}")
            pending = []
    assert parsed > CASES  # most batches keep their good records
    total = warehouse.query("SELECT count() FROM declarations").rows[0][0]
    assert total == enriched, (parsed, enriched, rejected)
    print(
        f"fuzz stream: {CASES} cases, {parsed} lines parsed, {enriched} enriched and inserted, "
        f"{rejected} rejected by enrich"
    )
