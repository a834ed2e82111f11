"""Fuzz the parse stage with hostile raw messages: every record becomes lines or exactly one
dead letter, and the records around a spoiled one go on.

``make test`` runs a short run; ``make fuzz`` sets CUSTOMS_WATCH_FUZZ_CASES to 10 000+.
"""

from __future__ import annotations

import os
from collections import Counter

import orjson

from ingest.connectors.http_poll import records_in
from ingest.formats.tabular.catalog import MappingCatalog
from schemas.codecs import RAW_BATCH, Undecodable
from schemas.declaration import RawRef
from schemas.raw import RawBatch, RawRecord
from stream.stages.parse import TabularReader, parse_message
from tests.fuzz.hostile import Case, hostile_cases, hostile_pages

CASES = int(os.environ.get("CUSTOMS_WATCH_FUZZ_CASES", "400"))
REF = RawRef(topic="fuzz.raw.any", partition=0, offset=0)


def outcome(case: Case, reader: TabularReader) -> tuple[int, int]:
    """Lines and dead letters of the whole message; checks each record alone too."""
    result = parse_message(case.value, REF, "fuzz", reader)
    try:
        batch = RAW_BATCH.decode(case.value)
    except Undecodable:
        assert (len(result.lines), len(result.dead_letters)) == (0, 1), case
        return 0, 1
    lines = letters = 0
    for record in batch.records:
        alone = batch.model_copy(update={"records": [record]}).model_dump_json().encode()
        one = parse_message(alone, REF, "fuzz", reader)
        assert (len(one.lines) >= 1 and not one.dead_letters) or (
            not one.lines and len(one.dead_letters) == 1
        ), (case.mutation, record.position, one)
        for letter in one.dead_letters:
            assert letter.reason and letter.payload == record.payload
        lines += len(one.lines)
        letters += len(one.dead_letters)
    assert (len(result.lines), len(result.dead_letters)) == (lines, letters), case.mutation
    return lines, letters


def test_every_hostile_record_is_lines_or_one_dead_letter() -> None:
    reader = TabularReader(MappingCatalog(None))
    seen: Counter[str] = Counter()
    for case in hostile_cases(CASES):
        _lines, letters = outcome(case, reader)
        seen[f"{case.format} {'letter' if letters else 'lines'}"] += 1
    formats = {key.split()[0] for key in seen}
    assert formats == {"jsonl", "csv", "xlsx", "cusdec"}
    assert sum(v for k, v in seen.items() if k.endswith("letter")) > CASES // 10, seen
    print(f"fuzz parse: {CASES} cases, " + ", ".join(f"{k}={v}" for k, v in sorted(seen.items())))


def test_every_hostile_http_page_is_refused_whole_or_read_record_by_record() -> None:
    """A page the poller cannot read is refused before anything of it is published (the
    poller retries or stops); a page it reads becomes records the parse stage reads like
    any JSONL record: each lines or one dead letter."""
    refused = letters = lines = 0
    for n, (mutation, body) in enumerate(hostile_pages(max(CASES // 4, 100))):
        try:
            items = records_in(body)
        except ValueError:
            refused += 1
            continue
        records = [
            RawRecord(
                source="http",
                origin="http://127.0.0.1/feed",
                position=p,
                payload=orjson.dumps(item),
                checksum="-",
            )
            for p, item in enumerate(items, start=1)
        ]
        if not records:
            continue
        batch = RawBatch(source="http", origin="http://127.0.0.1/feed", records=records)
        value = batch.model_dump_json().encode()
        result = parse_message(value, REF.model_copy(update={"offset": n}), "http")
        assert len(result.lines) + len(result.dead_letters) == len(records), mutation
        lines += len(result.lines)
        letters += len(result.dead_letters)
    assert refused and letters and lines
    print(f"fuzz http pages: refused={refused} lines={lines} dead_letters={letters}")
