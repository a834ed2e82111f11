"""Stage ``parse``: a raw Kafka message → canonical declaration lines + dead letters.

The batch says how its records are read: ``jsonl`` (a canonical line as JSON), ``csv`` (one
row's bytes, read with the named mapping and the batch's encoding and header), ``xlsx``
(one row's cells as a JSON array, same mapping) or ``cusdec`` (one EDIFACT CUSDEC message,
one line per goods item). A record that cannot be read or mapped, or
fails the :class:`Declaration` model, becomes a :class:`DeadLetter` with the reason, its
original bytes and what is needed to read it again; the rest of the batch goes on. Whatever
a reader raises counts (:mod:`stream.stages.guard`), not only the refusals written here. Mapping
here, not in the connector, lets a fixed mapping re-process the raw records.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from pydantic import ValidationError

from ingest.formats.cusdec.goods import message_lines
from ingest.formats.cusdec.split import DEFAULT_SERVICE, message_problem
from ingest.formats.tabular.mapper import HeaderMap, map_row, resolve_header
from schemas.codecs import describe_validation_error
from schemas.dead_letter import DeadLetter
from schemas.declaration import Declaration, RawRef
from schemas.mapping import Mapping
from schemas.raw import RawBatch, RawRecord
from stream.stages.guard import Failed, attempt, message_letter

STAGE = "parse"


@dataclass(slots=True)
class ParseResult:
    lines: list[Declaration] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


def parse_record(record: RawRecord) -> Declaration:
    """Decode one JSON-line record into a Declaration; raises ValueError with a clear reason."""
    try:
        data = orjson.loads(record.payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    data.setdefault("source", record.source)
    data.setdefault("source_record_id", f"{record.origin}:{record.position}")
    try:
        return Declaration.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"invalid declaration: {describe_validation_error(exc)}") from exc


MappingLookup = Callable[[str], Mapping]
"""Finds a mapping by name; raises KeyError naming the known ones."""


def _cells(record: RawRecord, batch: RawBatch, mapping: Mapping) -> list[str]:
    if batch.format == "xlsx":
        try:
            cells = orjson.loads(record.payload)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"xlsx row is not a JSON array of cells: {exc}") from exc
        if not isinstance(cells, list):
            raise ValueError("xlsx row is not a JSON array of cells")
        return ["" if c is None else str(c) for c in cells]
    encoding = batch.encoding or "utf-8"
    try:
        text = record.payload.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ValueError(f"row is not valid {encoding}: {exc}") from exc
    rows = list(csv.reader([text], delimiter=mapping.delimiter, strict=True))
    if len(rows) != 1:
        raise ValueError(f"row holds {len(rows)} CSV records, expected one")
    return rows[0]


class TabularReader:
    """Reads the rows of tabular batches; resolves each origin's header once."""

    def __init__(self, mappings: MappingLookup) -> None:
        self._mappings = mappings
        self._headers: dict[tuple[str, str, tuple[str, ...]], HeaderMap] = {}

    def header(self, batch: RawBatch) -> tuple[Mapping, HeaderMap]:
        if not batch.mapping:
            raise ValueError(f"{batch.format} batch names no mapping")
        if batch.header is None:
            raise ValueError(f"{batch.format} batch carries no header")
        try:
            mapping = self._mappings(batch.mapping)
        except KeyError as exc:
            raise ValueError(str(exc).strip("'\"")) from exc
        key = (mapping.name, mapping.version, tuple(batch.header))
        if key not in self._headers:
            if len(self._headers) > 1000:
                self._headers.clear()
            self._headers[key] = resolve_header(list(batch.header), mapping)
        return mapping, self._headers[key]

    def line(self, record: RawRecord, batch: RawBatch) -> Declaration:
        mapping, header = self.header(batch)
        data = map_row(header, _cells(record, batch, mapping), mapping, record.sequence or 1)
        data.setdefault("source", record.source)
        data.setdefault("source_record_id", f"{record.origin}:{record.position}")
        try:
            return Declaration.model_validate(data)
        except ValidationError as exc:  # map_row validated already; kept for safety
            raise ValueError(f"invalid declaration: {describe_validation_error(exc)}") from exc


def cusdec_lines(record: RawRecord, batch: RawBatch) -> list[Declaration]:
    """The goods items of one CUSDEC message (the record's bytes, UNH…UNT)."""
    service = batch.edifact_service or DEFAULT_SERVICE
    problem = message_problem(record.payload, service)
    if problem:
        raise ValueError(problem)
    encoding = batch.encoding or "utf-8"
    try:
        text = record.payload.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ValueError(f"message is not valid {encoding}: {exc}") from exc
    lines = []
    for data in message_lines(text, service):
        data.setdefault("source", record.source)
        data.setdefault("source_record_id", f"{record.origin}:{record.position}:{data['line_no']}")
        try:
            lines.append(Declaration.model_validate(data))
        except ValidationError as exc:
            raise ValueError(
                f"goods item {data['line_no']}: {describe_validation_error(exc)}"
            ) from exc
    return lines


def replay_context(batch: RawBatch, record: RawRecord) -> dict[str, Any]:
    """What a dead letter keeps so that `deadletter replay` can read its payload again."""
    if batch.format == "jsonl":
        return {}
    context: dict[str, Any] = {"format": batch.format}
    for name in ("mapping", "encoding", "header", "edifact_service"):
        value = getattr(batch, name)
        if value is not None:
            context[name] = value
    if record.sequence is not None:
        context["sequence"] = record.sequence
    return context


def read_record(
    record: RawRecord, batch: RawBatch, tabular: TabularReader | None
) -> list[Declaration]:
    """The lines of one record, read the way its batch says; raises on anything wrong."""
    if batch.format in ("jsonl", "json"):
        return [parse_record(record)]
    if batch.format in ("csv", "xlsx") and tabular is not None:
        return [tabular.line(record, batch)]
    if batch.format == "cusdec":
        return cusdec_lines(record, batch)
    raise ValueError(f"no reader for format {batch.format!r} in this worker")


def parse_batch(batch: RawBatch, ref: RawRef, tabular: TabularReader | None = None) -> ParseResult:
    """Every record read under the guard: whatever a reader raises (our ``ValueError``, a
    library's ``TypeError``, ``csv.Error``, ``EDISyntaxError``, ``InvalidMapping``…) makes
    that record one dead letter and the next record is read."""
    result = ParseResult()
    for record in batch.records:
        lines = attempt(partial(read_record, record, batch, tabular))
        if isinstance(lines, Failed):
            result.dead_letters.append(
                DeadLetter(
                    source=record.source,
                    origin=record.origin,
                    position=record.position,
                    stage=STAGE,
                    reason=lines.reason,
                    payload=record.payload,
                    topic=ref.topic,
                    partition=ref.partition,
                    offset=ref.offset,
                    context=replay_context(batch, record),
                )
            )
        else:
            result.lines.extend(lines)
    return result


def _raw_batch(value: bytes) -> RawBatch:
    try:
        return RawBatch.model_validate_json(value)
    except ValidationError as exc:
        raise ValueError(f"not a raw batch: {describe_validation_error(exc)}") from exc


def parse_message(
    value: bytes, ref: RawRef, source: str, tabular: TabularReader | None = None
) -> ParseResult:
    """Parse a whole raw-topic message; a message that is not a RawBatch is dead-lettered whole."""
    batch = attempt(lambda: _raw_batch(value))
    if isinstance(batch, Failed):
        return ParseResult(dead_letters=[message_letter(value, ref, STAGE, batch.reason, source)])
    return parse_batch(batch, ref, tabular)
