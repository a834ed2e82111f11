"""Poison records through the real broker, a worker process and the embedded ClickHouse:
every good line lands, every bad record is exactly one dead letter, the worker stays up.

Before the guard, the JSONL record a library raised ``TypeError`` on (and the CSV row, the
CUSDEC message) took its whole group of raw messages with it, acked with no output and no
dead letter, and the out-of-range dates made the sink's whole insert fail.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from ingest.synthetic import synthetic_jsonl
from tests.services import ROOT, Pipeline, wait_for

pytestmark = pytest.mark.integration

GOOD_JSONL = 40
LINE = {
    "declaration_id": "PR-X",
    "line_no": 1,
    "declared_at": "2024-05-01",
    "flow": "import",
    "hs_code": "8542.31",
    "value": "1000",
    "currency": "USD",
}
HUGE_BUT_HOLDABLE = {**LINE, "declaration_id": "PR-HUGE", "value": "1e27"}  # lands
POISON_JSONL = [
    b'{"extra":5,"zz":1}',  # TypeError inside the model
    orjson.dumps({**LINE, "declaration_id": "PR-1900", "declared_at": "1900-01-01"}),
    orjson.dumps({**LINE, "declaration_id": "PR-9999", "declared_at": "9999-12-31"}),
    orjson.dumps({**LINE, "declaration_id": "PR-BIGV", "value": "1e35"}),
    orjson.dumps({**LINE, "declaration_id": "PR-LINE", "line_no": 2**32}),
]
CSV = (
    "Bill of Lading Number,Arrival Date,Shipper,Consignee,HS Code,Product Description,"
    "Quantity,Value (USD)\n"
    "PRBOL1,2024-03-15,SHIPPER A,CONSIGNEE A,880622,QUADCOPTERS,600,89700.00\n"
    '"abc"d,e\n'
    "PRBOL2,2024-03-16,SHIPPER B,CONSIGNEE B,901310,RIFLE SCOPES,10,1200.00\n"
    "PRBOL3,2024-03-17,SHIPPER C,CONSIGNEE C,621133,GARMENTS,50,500.00\n"
)
GOOD_CSV = 3
BROKEN_CUSDEC = (
    b"UNH+PR0009+CUSDEC:D:96B:UN'\nBGM:X+929+PR-EDI+9'\nDTM+137:20240312:102'\nUNS+D'\n"
    b"CST+1+9013100000:122'\nUNT+6+PR0009'\n"
)
GOOD_CUSDEC = 4  # import_ru.edi: three goods items, then one


def query(pipe: Pipeline, name: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = orjson.loads(pipe.cli("query", name, "--format", "json").stdout)
    return rows


def lines_landed(pipe: Pipeline) -> int:
    try:
        return int(str(query(pipe, "line_totals")[0]["lines"]))
    except AssertionError:  # the worker's web port is not up yet
        return -1


def test_poison_records_become_one_dead_letter_each_and_the_rest_lands(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    jsonl = tmp_path / "feed.jsonl"
    good = synthetic_jsonl(GOOD_JSONL, seed=14, prefix="PR").rstrip(b"\n").split(b"\n")
    # poison between good lines, so every bad record shares its raw message with good ones
    mixed = [*good[:10], *POISON_JSONL[:3], orjson.dumps(HUGE_BUT_HOLDABLE), *good[10:]]
    mixed[25:25] = POISON_JSONL[3:]
    jsonl.write_bytes(b"\n".join(mixed) + b"\n")
    csv = tmp_path / "bol.csv"
    csv.write_text(CSV, encoding="utf-8")
    edi = tmp_path / "poison.edi"
    sample = (ROOT / "ingest" / "samples" / "cusdec" / "import_ru.edi").read_bytes()
    edi.write_bytes(sample.replace(b"UNZ+2+", BROKEN_CUSDEC + b"UNZ+3+"))

    worker = pipeline.start_worker()
    pipeline.cli("ingest", "jsonl", str(jsonl))
    pipeline.cli("ingest", "csv", str(csv), "--mapping", "us_bill_of_lading")
    pipeline.cli("ingest", "cusdec", str(edi))

    expected = GOOD_JSONL + 1 + GOOD_CSV + GOOD_CUSDEC
    wait_for(lambda: lines_landed(pipeline) >= expected, 120, "the good lines", pipeline)
    pipeline.cli("wait", "--timeout", "60")

    totals = query(pipeline, "line_totals")[0]
    assert (totals["lines"], totals["distinct_lines"]) == (expected, expected)
    listed = pipeline.cli("deadletter", "list", "--json").stdout.splitlines()
    letters = [orjson.loads(x) for x in listed if x.strip()]
    by_source = Counter(letter["source"] for letter in letters)
    assert by_source == {"jsonl": len(POISON_JSONL), "csv": 1, "cusdec": 1}, letters
    reasons = " | ".join(str(letter["reason"]) for letter in letters)
    for words in ("TypeError", "declared_at", "value", "line_no", "_csv.Error", "EDISyntax"):
        assert words in reasons
    assert worker.poll() is None, pipeline.worker_logs()
