"""Stage ``parse``: a raw Kafka message → canonical declaration lines + dead letters.

A record that is not a JSON object, or fails the :class:`Declaration` model, becomes a
:class:`DeadLetter` with the reason and its original bytes; the rest of the batch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from pydantic import ValidationError

from schemas.dead_letter import DeadLetter
from schemas.declaration import Declaration, RawRef
from schemas.raw import RawBatch, RawRecord

STAGE = "parse"


@dataclass(slots=True)
class ParseResult:
    lines: list[Declaration] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


def describe_validation_error(exc: ValidationError, limit: int = 5) -> str:
    """One line naming each failing field: ``declared_at: Input should be a valid date; ...``."""
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


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


def parse_batch(batch: RawBatch, ref: RawRef) -> ParseResult:
    result = ParseResult()
    for record in batch.records:
        try:
            result.lines.append(parse_record(record))
        except ValueError as exc:
            result.dead_letters.append(
                DeadLetter(
                    source=record.source,
                    origin=record.origin,
                    position=record.position,
                    stage=STAGE,
                    reason=str(exc),
                    payload=record.payload,
                    topic=ref.topic,
                    partition=ref.partition,
                    offset=ref.offset,
                )
            )
    return result


def parse_message(value: bytes, ref: RawRef, source: str) -> ParseResult:
    """Parse a whole raw-topic message; a message that is not a RawBatch is dead-lettered whole."""
    try:
        batch = RawBatch.model_validate_json(value)
    except ValidationError as exc:
        return ParseResult(
            dead_letters=[
                DeadLetter(
                    source=source,
                    stage=STAGE,
                    reason=f"not a raw batch: {describe_validation_error(exc)}",
                    payload=value,
                    topic=ref.topic,
                    partition=ref.partition,
                    offset=ref.offset,
                )
            ]
        )
    return parse_batch(batch, ref)
