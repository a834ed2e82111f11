"""Hostile records, one kind per test: each becomes exactly one dead letter with a reason,
and the rest of its batch goes on (the guard of ``stream/stages/guard.py``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.formats.tabular.catalog import MappingCatalog
from schemas.declaration import Declaration, DeclarationBatch, RawRef
from schemas.raw import RawBatch, RawRecord
from schemas.rule_data import load_rules
from stream.stages.enrich import Enricher
from stream.stages.guard import Failed, attempt, describe
from stream.stages.parse import TabularReader, parse_batch
from tests.records import GOOD_LINE, raw_record

REF = RawRef(topic="customs.raw.jsonl", partition=0, offset=7)
GOOD = GOOD_LINE
ROOT = Path(__file__).resolve().parents[3]
BOL_HEADER = (ROOT / "ingest/samples/tabular/us_bol.csv").read_text().splitlines()[0].split(",")
BOL_ROW = b'B1,2024-03-15,S,,C,,,880622,drone,1,600,PCS,,,China,"89,700.00"'
CUSDEC = (
    b"UNH+RU0001+CUSDEC:D:96B:UN'BGM+929+D-1+9'DTM+137:20240312:102'UNS+D'"
    b"CST+1+9013100000:122'MOA+38:100:USD'UNT+7+RU0001'"
)


def record(payload: bytes, position: int, sequence: int | None = None) -> RawRecord:
    return raw_record(payload, position, origin="feed", sequence=sequence)


def batch(*payloads: bytes, **kind: Any) -> RawBatch:
    records = [record(p, i, 1) for i, p in enumerate(payloads, start=1)]
    return RawBatch(source="jsonl", origin="feed", records=records, **kind)


def split(raw: RawBatch, tabular: TabularReader | None = None) -> tuple[int, dict[int, str]]:
    result = parse_batch(raw, REF, tabular)
    return len(result.lines), {d.position or 0: d.reason for d in result.dead_letters}


def test_the_guard_names_the_exception_type() -> None:
    assert describe(TypeError("x")) == "TypeError: x"
    assert describe(ValueError("a reason of ours")) == "a reason of ours"
    assert describe(KeyError()) == "KeyError"
    failed = attempt(lambda: Decimal("1e26").quantize(Decimal("0.01")))
    assert isinstance(failed, Failed) and failed.reason.startswith("decimal.InvalidOperation")


def test_a_jsonl_record_a_library_raises_type_error_on() -> None:
    lines, letters = split(batch(b'{"extra":5,"zz":1}', orjson.dumps(GOOD)))
    assert lines == 1
    assert list(letters) == [1] and letters[1].startswith("TypeError:")


def test_a_csv_row_the_csv_module_refuses() -> None:
    raw = batch(
        BOL_ROW, b'"abc"d,e', BOL_ROW, format="csv", mapping="us_bill_of_lading", header=BOL_HEADER
    )
    lines, letters = split(raw, TabularReader(MappingCatalog(None)))
    assert lines == 2
    assert list(letters) == [2] and letters[2].startswith("_csv.Error:")


def test_a_cusdec_message_pydifact_refuses() -> None:
    broken = CUSDEC.replace(b"BGM+", b"BGM:X+")
    lines, letters = split(batch(broken, CUSDEC, format="cusdec"))
    assert lines == 1
    assert list(letters) == [1] and "EDISyntaxError" in letters[1]


def test_a_broken_mapping_file_gives_each_of_its_records_a_letter_naming_the_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\ncolumns: [unclosed\n")
    reader = TabularReader(MappingCatalog(tmp_path))
    raw = batch(BOL_ROW, BOL_ROW, format="csv", mapping="mine", header=BOL_HEADER)
    lines, letters = split(raw, reader)
    assert lines == 0 and len(letters) == 2
    assert all("InvalidMapping" in r and "mine.yaml" in r for r in letters.values())


def test_a_broken_mapping_file_leaves_the_other_mappings_working(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\ncolumns: [unclosed\n")
    raw = batch(BOL_ROW, format="csv", mapping="us_bill_of_lading", header=BOL_HEADER)
    assert split(raw, TabularReader(MappingCatalog(tmp_path)))[0] == 1


def test_a_broken_file_meant_to_replace_a_packaged_mapping_never_falls_back_to_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "us_bill_of_lading.yaml").write_text("name: us_bill_of_lading\ncolumns: [\n")
    raw = batch(BOL_ROW, format="csv", mapping="us_bill_of_lading", header=BOL_HEADER)
    lines, letters = split(raw, TabularReader(MappingCatalog(tmp_path)))
    assert lines == 0 and "us_bill_of_lading.yaml" in letters[1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("declared_at", "1900-01-01"),
        ("declared_at", "1987-12-31"),
        ("declared_at", "9999-12-31"),
        ("declared_at", "2088-01-01"),
        ("line_no", 2**32),
        ("value", "1e34"),
        ("value", "-1e34"),
        ("quantity", "1e400"),
        ("net_weight_kg", "-1e309"),
    ],
)
def test_a_value_its_column_cannot_hold_is_refused_by_field(field: str, value: object) -> None:
    lines, letters = split(batch(orjson.dumps({**GOOD, field: value}), orjson.dumps(GOOD)))
    assert lines == 1
    assert list(letters) == [1] and field in letters[1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("declared_at", "1988-01-01"),
        ("declared_at", "2087-12-31"),
        ("line_no", 2**32 - 1),
        ("value", "9999999999999999999999999999999999.9999"),
    ],
)
def test_the_bounds_themselves_are_kept(field: str, value: object) -> None:
    assert split(batch(orjson.dumps({**GOOD, field: value}))) == (1, {})


ENRICHER = Enricher(load_rules())


def line(**changes: object) -> Declaration:
    return Declaration.model_validate({**GOOD, **changes})


def test_a_value_of_1e26_and_more_gets_its_usd_value() -> None:
    enriched = ENRICHER.lines([line(value="1e27")], REF)
    assert not enriched.rejected
    assert enriched.lines[0].value_usd == Decimal("1e27")


def test_a_line_a_stage_raises_on_is_set_aside_and_the_others_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    classify = ENRICHER.classify

    def explode(hs: Any, text: str) -> Any:
        if "poison" in text:
            raise RuntimeError("boom")
        return classify(hs, text)

    monkeypatch.setattr(ENRICHER, "classify", explode)
    lines = [line(), line(line_no=2, description="poison"), line(line_no=3)]
    result = ENRICHER.lines(lines, REF)
    assert [x.line_no for x in result.lines] == [1, 3]
    ((rejected, reason),) = result.rejected
    assert rejected.line_no == 2 and reason == "RuntimeError: boom"
    with pytest.raises(ValueError, match="D1/2: RuntimeError: boom"):
        ENRICHER.batch(DeclarationBatch(source="jsonl", raw=REF, lines=lines))
