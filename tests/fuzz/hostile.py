"""Hostile raw batches, seeded: real feeds read by the real connectors, one record spoiled.

Every case is a raw-topic message as a connector would publish it: three consecutive records
of one origin (JSONL, CSV in cp1251 / GB18030 / UTF-8, .xlsx rows, CUSDEC messages), the
middle one spoiled by one of the mutations below. The records around it are untouched, so a
run can check that the rest of the batch goes on. Same seed, same cases.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from ingest.connectors.base import OriginFeed, batches
from ingest.connectors.cusdec import CusdecConnector
from ingest.connectors.jsonl import JsonlConnector
from ingest.connectors.tabular import TabularConnector
from schemas.mapping import packaged_mappings
from schemas.raw import RawBatch, RawRecord, payload_checksum

SAMPLES = Path(__file__).resolve().parents[2] / "ingest" / "samples"

# Values that break naive readers: wrong types, out-of-range numbers and dates, control and
# bidi characters, separators, huge text.
HOSTILE_VALUES: list[Any] = [
    None, [], {}, "", " ", True, 0, -1, 2**32, 2**64, 10**30, 1e308, -1e308, 1e-320,
    "1e26", "-1e26", "1e400", "NaN", "Infinity", "-0", "0x1F", "1,2,3", "12,34,5",
    "9999-12-31", "0001-01-01", "1900-01-01", "2149-06-07", "1969-12-31", "0000-00-00",
    "31.12.9999", "30.02.2024", "2024-13-45", "\x00", "\ufeff", "\u202e\u202d", "\ud7ff",
    "'", '"', ";", ",", "+", ":", "?", "\n", "\r\n", "a" * 70_000, "Ж" * 5_000,
    "8806.10.00.00.00.00", "88061", "ХХ", "-8806", "８８０６",
]  # fmt: skip
HOSTILE_BYTES = [b"\x00", b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b'"', b"'", b";", b"\n"]


@dataclass(frozen=True, slots=True)
class Case:
    """One hostile raw message: its format, what was done, and the spoiled record's place."""

    format: str
    mutation: str
    value: bytes  # the RawBatch JSON, as on the raw topic
    spoiled_position: int


@cache
def _sample_batches() -> dict[str, list[RawBatch]]:
    """Raw batches of three records from every sample feed, as the connectors cut them."""
    mappings = packaged_mappings()
    tabular = SAMPLES / "tabular"
    feeds: dict[str, list[OriginFeed]] = {
        "jsonl": [JsonlConnector(SAMPLES / "demo.jsonl", "jsonl").feed()],
        "csv": [
            TabularConnector(
                tabular / "ru_declarations_cp1251.csv", "csv", mappings["ru_import_declarations"]
            ).feed(),
            TabularConnector(
                tabular / "cn_exports_gb18030.csv", "csv", mappings["cn_export_records"]
            ).feed(),
            TabularConnector(tabular / "us_bol.csv", "csv", mappings["us_bill_of_lading"]).feed(),
        ],
        "xlsx": [
            TabularConnector(
                tabular / "ru_declarations.xlsx", "xlsx", mappings["ru_import_declarations"]
            ).feed()
        ],
        "cusdec": [
            CusdecConnector(SAMPLES / "cusdec" / name, "cusdec").feed()
            for name in ("import_ru.edi", "export_cn.edi")
        ],
    }
    found: dict[str, list[RawBatch]] = {}
    for kind, kind_feeds in feeds.items():
        for feed in kind_feeds:
            context = {**feed.context, "origin_checksum": feed.checksum}
            for batch in batches(list(feed.records), 3, 1 << 24, context):
                if len(batch.records) == 3 or kind == "cusdec":
                    found.setdefault(kind, []).append(batch)
    return found


def _bytes_mutation(rng: random.Random, payload: bytes) -> tuple[str, bytes]:
    choice = rng.randrange(7)
    if choice == 0 and payload:
        return "truncated", payload[: rng.randrange(len(payload))]
    if choice == 1 and payload:
        spoiled = bytearray(payload)
        for _ in range(rng.randint(1, 4)):
            spoiled[rng.randrange(len(spoiled))] = rng.randrange(256)
        return "bytes flipped", bytes(spoiled)
    if choice == 2:
        at = rng.randrange(len(payload) + 1)
        return "bytes inserted", payload[:at] + rng.choice(HOSTILE_BYTES) + payload[at:]
    if choice == 3:
        return "random bytes", rng.randbytes(rng.randint(0, 300))
    if choice == 4:
        return "empty", b""
    if choice == 5:
        return "repeated to 300 KB", (payload or b"x") * (300_000 // max(len(payload), 1) + 1)
    return "nul inside", payload.replace(b" ", b"\x00", 1)


def _dumps(value: Any) -> bytes:
    """JSON as a careless producer writes it: big integers and lone surrogates included."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _json_mutation(rng: random.Random, payload: bytes) -> tuple[str, bytes]:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _bytes_mutation(rng, payload)
    if not isinstance(data, dict) or rng.random() < 0.1:
        top = rng.choice([[], 5, "text", None, [data], 1e308])
        return f"top level {type(top).__name__}", _dumps(top)
    field = rng.choice(sorted(data))
    if rng.random() < 0.2:
        del data[field]
        return f"{field} removed", _dumps(data)
    value = rng.choice(HOSTILE_VALUES)
    data[field] = value
    if rng.random() < 0.2:
        data[f"zz_{rng.randrange(100)}"] = rng.choice(HOSTILE_VALUES)
    return f"{field}={str(value)[:20]!r}", _dumps(data)


def _csv_mutation(
    rng: random.Random, payload: bytes, encoding: str, delimiter: str
) -> tuple[str, bytes]:
    try:
        cells = payload.decode(encoding).split(delimiter)
    except (UnicodeDecodeError, LookupError):
        return _bytes_mutation(rng, payload)
    choice = rng.randrange(4)
    if choice == 0:
        at = rng.randrange(len(cells))
        value = str(rng.choice(HOSTILE_VALUES))
        cells[at] = value
        name = f"cell {at}={value[:20]!r}"
    elif choice == 1:
        cells = cells[: rng.randrange(len(cells))]
        name = "cells missing"
    elif choice == 2:
        cells.extend(["x"] * rng.randint(1, 5))
        name = "cells added"
    else:
        at = rng.randrange(len(cells))
        cells[at] = f'"{cells[at]}"x"'
        name = "bad quoting"
    text = delimiter.join(cells)
    try:
        return name, text.encode(encoding)
    except UnicodeEncodeError:
        return f"{name} (not in {encoding})", text.encode("utf-8")


def _cusdec_mutation(rng: random.Random, payload: bytes) -> tuple[str, bytes]:
    segments = payload.split(b"'")
    choice = rng.randrange(4)
    at = rng.randrange(len(segments))
    if choice == 0 and len(segments) > 2:
        del segments[at]
        return "segment removed", b"'".join(segments)
    if choice == 1:
        segments.insert(at, segments[at])
        return "segment doubled", b"'".join(segments)
    if choice == 2:
        parts = segments[at].split(b"+")
        where = rng.randrange(len(parts))
        parts[where] = str(rng.choice(HOSTILE_VALUES)).encode("utf-8", "replace")[:200]
        segments[at] = b"+".join(parts)
        return "element spoiled", b"'".join(segments)
    return _bytes_mutation(rng, payload)


def spoil(rng: random.Random, batch: RawBatch, record: RawRecord) -> tuple[str, bytes]:
    """A hostile version of ``record``'s payload, aware of the batch's format."""
    if rng.random() < 0.25:
        return _bytes_mutation(rng, record.payload)
    if batch.format in ("jsonl", "xlsx"):
        return _json_mutation(rng, record.payload)
    if batch.format == "csv":
        delimiter = packaged_mappings()[batch.mapping or ""].delimiter
        return _csv_mutation(rng, record.payload, batch.encoding or "utf-8", delimiter)
    return _cusdec_mutation(rng, record.payload)


def _spoiled_batch(rng: random.Random, batch: RawBatch) -> Case:
    index = len(batch.records) // 2
    record = batch.records[index]
    mutation, payload = spoil(rng, batch, record)
    spoiled = record.model_copy(update={"payload": payload, "checksum": payload_checksum(payload)})
    records = [*batch.records[:index], spoiled, *batch.records[index + 1 :]]
    value = batch.model_copy(update={"records": records}).model_dump_json().encode()
    return Case(batch.format or "jsonl", mutation, value, record.position)


def _message_mutation(rng: random.Random, batch: RawBatch) -> Case:
    """The raw message itself spoiled: not JSON, not a batch, a batch of the wrong shape."""
    value = batch.model_dump_json().encode()
    mutation, spoiled = _json_mutation(rng, value)
    return Case(batch.format or "jsonl", f"message: {mutation}", spoiled, -1)


def hostile_cases(count: int, seed: int = 14) -> Iterator[Case]:
    """``count`` cases over every format in turn; one in twenty spoils the whole message."""
    rng = random.Random(seed)
    pools = _sample_batches()
    kinds = sorted(pools)
    makers: list[Callable[[random.Random, RawBatch], Case]] = [_message_mutation]
    makers += [_spoiled_batch] * 19
    for n in range(count):
        batch = rng.choice(pools[kinds[n % len(kinds)]])
        yield rng.choice(makers)(rng, batch)


@cache
def _demo_objects() -> list[dict[str, Any]]:
    found = []
    for line in (SAMPLES / "demo.jsonl").read_bytes().splitlines():
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # the demo feed carries malformed lines on purpose
        if isinstance(data, dict):
            found.append(data)
    return found


def hostile_pages(count: int, seed: int = 9) -> Iterator[tuple[str, bytes]]:
    """HTTP poll answers: pages of demo records in the shapes endpoints use, spoiled."""
    rng = random.Random(seed)
    objects = _demo_objects()
    for _ in range(count):
        items: list[Any] = [dict(rng.choice(objects)) for _ in range(rng.randint(0, 4))]
        mutation = "clean"
        if items and rng.random() < 0.7:
            at = rng.randrange(len(items))
            choice = rng.randrange(3)
            if choice == 0:
                items[at] = rng.choice(HOSTILE_VALUES)
                mutation = f"item {type(items[at]).__name__}"
            else:
                field = rng.choice(sorted(items[at]))
                items[at][field] = rng.choice(HOSTILE_VALUES)
                mutation = f"{field} spoiled"
        shape = rng.randrange(4)
        page: Any = items if shape == 0 else {rng.choice(["records", "data", "items"]): items}
        if shape == 3:
            page = {"next": None, "results": rng.choice([items, "x", None, {"a": items}])}
            mutation += ", unknown envelope"
        body = _dumps(page)
        if rng.random() < 0.1:
            mutation, body = _bytes_mutation(rng, body)
        yield mutation, body
