"""Enriched lines sent to ClickHouse as JSON (``Warehouse.insert_json``, ClickHouse building
the columns) are stored exactly as the rows built in Python and sent as Native: the same
batches go both ways into two tables of one embedded ClickHouse, and every column of every
row is compared value by value (type and repr, so ``-0.0``, float rounding, decimal scale
and microseconds all count)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.feed import realistic_lines
from schemas.codecs import ENRICHED_BATCH
from schemas.declaration import Declaration, RawRef
from schemas.enriched import (
    EnrichedBatch,
    EnrichedDeclaration,
    Evidence,
    ScreeningHit,
    batch_header,
)
from schemas.settings import Settings
from stream.sink.tables import (
    JsonLines,
    decode_enriched,
    decode_enriched_marked,
    decode_enriched_passthrough,
)
from stream.stages.enrich import Enricher
from stream.warehouse.client import JSON_INSERT_SETTINGS, Warehouse, json_insert_sql
from stream.warehouse.migrations import migrate
from stream.warehouse.rows import DECLARATION_COLUMNS, DECLARATION_JSON
from tests.unit.stream.test_sink_rows import RULES, enriched_batches

UNICODE = (
    "Ткани «защитные» №5",
    "防弹衣 NIJ IIIA 級",
    "خوذة باليستية",
    "Ü\u0308ber-Schutz 🛡️ \U0001f9ea",
    "quotes \" ' and \\ backslash \\n not a newline",
    "control \x01\x1f\t\n\r chars",
    "  surrounding spaces kept  ",
    "\u200bzero\u200dwidth\ufeff",
)
# Decimals of every shape, up to the model's bound with more places than the columns keep.
DECIMALS = (
    "0", "-0", "0.0001", "-0.00005", "1E-7", "1.5E+3", "12345678901234567890.123456789",
    "99999999999999999999999.9999", "-99999999999999999999999.99999", "1E+33",
    "3.14159265358979323846264338327950288", "1e300", "-2.5E-300", "100000000000000000000",
    "-9999999999999999999999999999999999.99999", "9999999999999999999999999999999.999951",
)  # fmt: skip


def _awkward_lines(n: int, seed: int) -> list[dict[str, Any]]:
    """Declarations with unicode everywhere, decimals of every shape, nulls in every optional
    field and unknown fields (kept in ``extra``)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        text = UNICODE[i % len(UNICODE)]
        line: dict[str, Any] = {
            "declaration_id": f"AWK/{text[:6]}/{i}",
            "line_no": rnd.choice((1, 2, 4_294_967_295)),
            "declared_at": str(date(1988, 1, 1) + timedelta(days=rnd.randint(0, 36_500))),
            "flow": rnd.choice(("import", "export")),
            "hs_code": rnd.choice(
                ("8471.30", "9306 21 000 0", "", "N/A", "62.11", "8542.31; 8542.39")
            ),
            "description": f"{text} {rnd.random()}",
            "quantity": rnd.choice(
                (None, rnd.choice(DECIMALS), rnd.random() * 10 ** rnd.randint(-12, 12))
            ),
            "value": rnd.choice(
                (
                    None,
                    rnd.choice(DECIMALS[:10]),
                    str(Decimal(rnd.randint(-(10**20), 10**20)) / 10 ** rnd.randint(0, 9)),
                )
            ),
            "net_weight_kg": rnd.choice((None, rnd.choice(DECIMALS), str(rnd.random()))),
            "currency": rnd.choice((None, "USD", "EUR", "RUB", "XXX", "usd")),
            "unit": rnd.choice((None, "pcs", "kg", "шт", "m²")),
            "exporter_name": rnd.choice((None, text, f"{text} LLC")),
            "exporter_country": rnd.choice((None, "CN", "zz", "Китай")),
            "importer_name": rnd.choice((None, f"ООО «{text}»")),
            "importer_id": rnd.choice((None, "7701234567", "")),
            "notify_name": rnd.choice((None, text)),
            "destination_country": rnd.choice((None, "RU", "BY")),
            "manufacturer": rnd.choice((None, text)),
            "source_record_id": rnd.choice((None, f"rec-{i}", text)),
        }
        if i % 3 == 0:
            line["container_no"] = f"MSKU{i:07d}"
            line["nested"] = {"a": [1, 2.5, None, True, text], "b": {"c": 10**18, "d": -1e-300}}
            line["big"] = 2**63 + i
        out.append(line)
    return out


def _hits(rnd: random.Random, n: int) -> list[ScreeningHit]:
    """Hits with random scores (Float32 rounding), repeated entities and unicode names."""
    return [
        ScreeningHit(
            role=rnd.choice(("importer", "exporter", "notify")),
            party_name=rnd.choice(UNICODE),
            party_country=rnd.choice((None, "RU")),
            dataset=rnd.choice(("demo", "eu-fsf")),
            entity_id=rnd.choice(("Q1", "Q2", "ü-3", "b", "B", "Ж-9")),
            entity_name=rnd.choice(UNICODE),
            matched_by=rnd.choice(("identifier", "name", "address")),
            score=rnd.choice((rnd.random(), 1.0, 0.0, round(rnd.random(), 2), 0.5 + 2**-25)),
            explanation=rnd.choice(UNICODE),
            entity_incorporated=rnd.choice((None, date(2001, 2, 3))),
        )
        for _ in range(n)
    ]


def _evidence(rnd: random.Random) -> list[Evidence]:
    return [
        Evidence(kind="term", target="uav", matched="дрон", field="description",
                 language="ru", start=rnd.randint(0, 9), end=12, text=rnd.choice(UNICODE)),
        Evidence(kind="hs_prefix", target="chpl", matched="8806"),
    ]  # fmt: skip


def _dress(line: EnrichedDeclaration, rnd: random.Random, i: int) -> EnrichedDeclaration:
    """What enrichment may leave on a line, with values chosen to be awkward."""
    micro = rnd.choice((0, 999_999, 123_456, rnd.randint(0, 999_999)))
    return line.model_copy(
        update={
            "screening_hits": _hits(rnd, i % 4),
            "evidence": _evidence(rnd) if i % 2 else line.evidence,
            "confidence": rnd.choice((rnd.random(), 0.85, 1 + 2**-24 - 1, 0.0, 1.0)),
            "value_usd": rnd.choice((None, Decimal("0.01"), Decimal("-123456789012345678.99"))),
            "enriched_at": datetime(2026, 12, 2, 16, 27, 58, micro, tzinfo=UTC),
            "source_record_id": None if i % 5 == 0 else line.source_record_id,
            "importer_party_id": rnd.choice((None, "", "p-1")),
            "manufacturer_party_id": rnd.choice((None, "p-ü")),
            "flags": rnd.choice(([], ["hs6_not_in_hs2022"], ["a", "a", "ü"])),
        }
    )


def _batches() -> Iterator[bytes]:
    yield from enriched_batches()  # the realistic feed varied, the seeds, the demo samples
    enricher = Enricher(RULES)
    rnd = random.Random(16)
    feeds = [realistic_lines(600, seed=11), _awkward_lines(300, seed=12)]
    for n, feed in enumerate(feeds):
        declared = [Declaration.model_validate(raw) for raw in feed]
        ref = RawRef(topic="t.raw.jsonl", partition=n, offset=9)
        lines = enricher.lines(declared, ref).lines
        if n == 1:
            lines = [_dress(line, rnd, i) for i, line in enumerate(lines)]
        for start in range(0, len(lines), 250):
            batch = EnrichedBatch(source="jsonl", raw=ref, lines=lines[start : start + 250])
            yield ENRICHED_BATCH.encode(batch)


@pytest.fixture(name="warehouse", scope="module")
def two_tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path: Path = tmp_path_factory.mktemp("json-insert") / "ch"
    warehouse = Warehouse(Settings(clickhouse={"dsn": f"chdb://{path}"}).clickhouse)
    migrate(warehouse)
    warehouse.command("CREATE TABLE declarations_as_rows AS declarations")
    warehouse.command("CREATE TABLE declarations_unread AS declarations")
    try:
        yield warehouse
    finally:
        warehouse.close()


def _select(warehouse: Warehouse, table: str) -> list[list[tuple[str, str]]]:
    """Every row as (type, repr) of its values, sorted on all of them (keys may repeat)."""
    rows = warehouse.query(f"SELECT * FROM {table}").rows
    return sorted([(type(v).__name__, repr(v)) for v in row] for row in rows)


def test_json_and_rows_store_the_same_values(warehouse: Warehouse) -> None:
    """Three ways: rows built in Python, the lines read and written again as JSON, and the
    lines' bytes handed on unread (the worker's batch header), two batches per insert."""
    lines = 0
    unread: list[bytes] = []
    for n, value in enumerate(_batches()):
        identity, rows = decode_enriched(value)
        marked_identity, objects = decode_enriched_marked(value)
        outline = batch_header(ENRICHED_BATCH.decode(value))
        unread_identity, kept = decode_enriched_passthrough(value, outline)
        assert marked_identity == unread_identity == identity
        assert all(type(x) is dict for x in objects)
        assert type(kept) is JsonLines and len(kept) == len(rows)
        lines += len(rows)
        warehouse.insert_rows("declarations_as_rows", rows, DECLARATION_COLUMNS, f"r{n}")
        warehouse.insert_json("declarations", DECLARATION_JSON, orjson.dumps(objects), f"j{n}")
        unread.append(kept.array[1:-1])
        if len(unread) == 2:
            body = b"[" + b",".join(unread) + b"]"
            warehouse.insert_json("declarations_unread", DECLARATION_JSON, body, f"u{n}")
            unread.clear()
    if unread:
        body = b"[" + b",".join(unread) + b"]"
        warehouse.insert_json("declarations_unread", DECLARATION_JSON, body, "u-last")
    columns = warehouse.query("SELECT * FROM declarations LIMIT 0").columns
    assert set(DECLARATION_COLUMNS) <= set(columns)  # SELECT *: the others are compared too
    as_rows, as_json, as_unread = (
        _select(warehouse, "declarations_as_rows"),
        _select(warehouse, "declarations"),
        _select(warehouse, "declarations_unread"),
    )
    assert len(as_rows) == len(as_json) == len(as_unread) == lines > 1300
    for expected, got, passed in zip(as_rows, as_json, as_unread, strict=True):
        for column, a, b, c in zip(columns, expected, got, passed, strict=True):
            assert a == b == c, (column, expected[0], a, b, c)


def test_the_batches_are_awkward(warehouse: Warehouse) -> None:
    """What the comparison above covers, read back from the table."""
    (row,) = warehouse.query(
        "SELECT countIf(length(screened_entity_ids) > 1), countIf(screening_max_score > 0),"
        " countIf(evidence != '[]'), countIf(extra LIKE '%nested%'), countIf(quantity IS NULL),"
        " countIf(value IS NULL), countIf(match(description, '[^\\\\x00-\\\\x7f]')),"
        " countIf(toMillisecond(enriched_at) = 999), countIf(source_record_id IS NULL)"
        " FROM declarations"
    ).rows
    assert all(count > 0 for count in row), row


def test_a_token_seen_twice_is_dropped(warehouse: Warehouse) -> None:
    _, objects = decode_enriched_marked(next(iter(enriched_batches())))
    body = orjson.dumps(objects)
    before = warehouse.query("SELECT count() FROM declarations").rows[0][0]
    warehouse.insert_json("declarations", DECLARATION_JSON, body, "twice")
    warehouse.insert_json("declarations", DECLARATION_JSON, body, "twice")
    after = warehouse.query("SELECT count() FROM declarations").rows[0][0]
    assert after - before == len(objects)


def test_decimals_beyond_the_columns_digits_are_cut_alike(warehouse: Warehouse) -> None:
    """ClickHouse parses the JSON text into the Decimal column with the digits past the scale
    cut. clickhouse-connect scales a value within 38 significant digits, so one with more
    places than the column keeps rounded up past it (to -10**34) until the rows path cut it
    to the column's scale first: both paths now store the same value."""
    text = "-9999999999999999999999999999999999.99999"  # within the model's |value| < 10**34
    declared = Declaration.model_validate(
        {"declaration_id": "D28", "line_no": 1, "declared_at": "2024-05-06", "flow": "import",
         "value": text}
    )  # fmt: skip
    ref = RawRef(topic="t.raw.jsonl", partition=0, offset=28)
    lines = Enricher(RULES).lines([declared], ref).lines
    value = ENRICHED_BATCH.encode(EnrichedBatch(source="jsonl", raw=ref, lines=lines))
    warehouse.insert_rows(
        "declarations_as_rows", decode_enriched(value)[1], DECLARATION_COLUMNS, "d28"
    )
    warehouse.insert_json(
        "declarations", DECLARATION_JSON, orjson.dumps(decode_enriched_marked(value)[1]), "d28"
    )
    query = "SELECT toString(value) FROM {} WHERE declaration_id = 'D28'"
    assert warehouse.query(query.format("declarations")).rows == [
        ["-9999999999999999999999999999999999.9999"]
    ]
    assert warehouse.query(query.format("declarations_as_rows")).rows == [
        ["-9999999999999999999999999999999999.9999"]
    ]


def test_the_servers_statement_fits_the_table(warehouse: Warehouse) -> None:
    """A server reads the JSON through ``input()``; the embedded engine accepts the same
    statement (columns, types, expressions) but, given the data inline, inserts nothing
    and says nothing, which is why it reads a file instead. If this starts inserting,
    chdb reads inline data and both could share one statement."""
    _, objects = decode_enriched_marked(next(iter(enriched_batches())))
    before = warehouse.query("SELECT count() FROM declarations").rows[0][0]
    warehouse._client.command(
        json_insert_sql("declarations", DECLARATION_JSON),
        data=orjson.dumps(objects),
        settings={**JSON_INSERT_SETTINGS, "insert_deduplication_token": "inline"},
    )
    assert warehouse.query("SELECT count() FROM declarations").rows[0][0] == before


@pytest.mark.parametrize("spoiled", [0, 1, -1])
def test_a_marked_line_missing_a_field_is_not_taken_as_is(spoiled: int) -> None:
    """Any line, not only the first of its shape: the full reading then says why."""
    batch = orjson.loads(next(iter(enriched_batches())))
    assert len(batch["lines"]) > 2
    del batch["lines"][spoiled]["hs6"]
    with pytest.raises(KeyError, match="hs6"):
        decode_enriched_marked(orjson.dumps(batch))
    batch["lines"][spoiled]["hs6"] = None  # back, last: another key sequence, still complete
    assert len(decode_enriched_marked(orjson.dumps(batch))[1]) == len(batch["lines"])
