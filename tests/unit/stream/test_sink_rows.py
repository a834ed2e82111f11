"""The sink's quick reading of the worker's enriched batches gives the same identity and the
same rows, column for column, as validating them in full; a marked message that is not what
the mark promises is read in full and refused the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.feed import realistic_lines
from ingest.seeds import seed_lines
from schemas.codecs import ENRICHED_BATCH
from schemas.declaration import Declaration, RawRef
from schemas.enriched import EnrichedBatch
from schemas.rule_data import load_rules
from schemas.settings import TopicSettings
from stream.screening.index import WatchlistIndex
from stream.screening.loaders import read_list
from stream.screening.matcher import Screener
from stream.sink.tables import decode_enriched, decode_enriched_marked, sink_tables
from stream.stages.enrich import Enricher
from stream.warehouse.rows import DECLARATION_COLUMNS

RULES = load_rules()
SAMPLES = Path(__file__).resolve().parents[3] / "ingest" / "samples"


def _loads(text: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # the samples hold broken lines on purpose
        return {}
    return value if isinstance(value, dict) else {}


def _vary(n: int, line: dict[str, Any]) -> dict[str, Any]:
    """Unknown columns (kept in ``extra``), missing quantities and weights on some lines."""
    if n % 7 == 0:
        line["container_no"] = f"MSKU{n:07d}"
    if n % 5 == 0:
        line["quantity"] = None
    if n % 3 == 0:
        line["net_weight_kg"] = n * 1.5
    return line


def enriched_batches() -> list[bytes]:
    entries = [
        *read_list(SAMPLES / "watchlist_demo.csv", "demo"),
        *read_list(SAMPLES / "watchlist_demo.ftm.json", "demo-ftm"),
    ]
    screener = Screener(WatchlistIndex.build(entries, RULES.screening))
    enricher = Enricher(RULES, screener=lambda: screener)
    feeds: list[list[dict[str, Any]]] = [
        [_vary(n, line) for n, line in enumerate(realistic_lines(400, seed=3))],
        seed_lines(),
        [_loads(x) for x in (SAMPLES / "demo.jsonl").read_bytes().splitlines()],
    ]
    out = []
    for n, feed in enumerate(feeds):
        lines = []
        for raw in feed:
            try:
                lines.append(Declaration.model_validate(raw))
            except ValueError:
                continue  # the samples hold broken lines on purpose
        ref = RawRef(topic="t.raw.jsonl", partition=n, offset=7)
        result = enricher.lines(lines, ref)
        batch = EnrichedBatch(source="jsonl", raw=ref, lines=result.lines)
        out.append(ENRICHED_BATCH.encode(batch))
    return out


BATCHES = enriched_batches()


@pytest.mark.parametrize("value", BATCHES)
def test_the_quick_reading_gives_the_same_identity_and_rows(value: bytes) -> None:
    """The quick reading leaves the lines as JSON objects (ClickHouse builds their rows, see
    test_sink_json_insert.py); built in Python they are the rows of the full reading."""
    identity, lines = decode_enriched_marked(value)
    assert identity == decode_enriched(value)[0]
    assert sink_tables(TopicSettings())[TopicSettings().enriched].rows_in_python(lines) == list(
        decode_enriched(value)[1]
    )


def test_the_batches_cover_hits_evidence_and_empty_fields() -> None:
    rows = [
        dict(zip(DECLARATION_COLUMNS, row, strict=True))
        for value in BATCHES
        for row in decode_enriched(value)[1]
    ]
    assert any(row["screening_max_score"] > 0 for row in rows)
    assert any(row["evidence"] != "[]" for row in rows)
    assert any(row["extra"] != "{}" for row in rows)
    assert any(row["quantity"] is None for row in rows)
    assert any(row["net_weight_kg"] is None for row in rows)
    assert any(row["net_weight_kg"] is not None for row in rows)


def test_a_message_that_is_not_a_batch_fails_the_quick_reading() -> None:
    broken = orjson.loads(BATCHES[0])
    del broken["lines"][0]["declared_at"]
    with pytest.raises(KeyError):
        decode_enriched_marked(orjson.dumps(broken))
    with pytest.raises(ValueError, match="declared_at"):
        decode_enriched(orjson.dumps(broken))
