"""Raw records: what a feed delivered, byte for byte, with where it came from.

A Kafka message on ``customs.raw.<source>`` carries a :class:`RawBatch`: a bounded run of
consecutive records from one origin (file, endpoint). The batch is the unit that later
stages dedupe on, so a connector fixes batch boundaries once, at publish time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from schemas.trusted import trusted


def _from_base64(value: Any) -> Any:
    if isinstance(value, str):
        # binascii's strict mode accepts a subset of what b64decode(validate=True) does
        # (the alphabet, then at most two '='), with the same bytes, and skips its regex
        # check (3 µs a record); anything it refuses takes the usual path and its message.
        try:
            return binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError):
            pass
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"not standard base64: {exc}") from exc
    return value


Payload = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(
        lambda b: base64.b64encode(b).decode("ascii"), return_type=str, when_used="json"
    ),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
"""Bytes kept exactly as received; standard base64 (RFC 4648 §4) in JSON."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def payload_checksum(payload: bytes) -> str:
    """SHA-256 of the bytes as received, hex."""
    return hashlib.sha256(payload).hexdigest()


REPLAY_HEADER = "customs-watch-replay"
"""Kafka header on a message ``deadletter replay`` put back on the topic it was read from:
the replayed letter's id. The sink takes such a message as new, not as a copy of the one it
refused (which it remembers)."""


class RawRecord(BaseModel):
    """One record as the feed delivered it (a JSONL line, a CSV row, an EDIFACT segment group)."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="Feed name; also the suffix of the raw topic.")
    origin: str = Field(description="File path, URL or message id the record came from.")
    position: int = Field(ge=0, description="Line, row or segment number inside the origin.")
    payload: Payload = Field(description="The record's bytes exactly as received (base64).")
    checksum: str = Field(description="SHA-256 of payload, hex.")
    received_at: datetime = Field(default_factory=utc_now)
    sequence: int | None = Field(
        default=None,
        ge=1,
        description="Tabular rows: the row's rank among its declaration's rows in the origin, "
        "the line number when the layout has no item-number column.",
    )


def read_record(
    source: str,
    origin: str,
    position: int,
    payload: bytes,
    received_at: datetime,
    sequence: int | None = None,
) -> RawRecord:
    """A record a file connector read (position ≥ 0, sequence ≥ 1 or None, payload bytes), with
    its checksum, built without validating again: a connector builds one per line, and
    validating each cost about a tenth of the ingest command's CPU. Tested equal to
    validation."""
    return trusted(
        RawRecord,
        {
            "source": source,
            "origin": origin,
            "position": position,
            "payload": payload,
            "checksum": payload_checksum(payload),
            "received_at": received_at,
            "sequence": sequence,
        },
    )


RawFormat = Literal["jsonl", "csv", "xlsx", "cusdec", "json"]


class RawBatch(BaseModel):
    """Value of a ``customs.raw.<source>`` message: consecutive records from one origin,
    with what the stream needs to read them (format, mapping, encoding, header) and what the
    connector needs to resume (the origin's checksum, the cursor after the last record)."""

    model_config = ConfigDict(frozen=True)

    source: str
    origin: str
    records: list[RawRecord] = Field(min_length=1)
    format: RawFormat = Field(
        default="jsonl", description="How a record's payload is read by the parse stage."
    )
    mapping: str | None = Field(
        default=None, description="Tabular formats: the mapping (schemas/mappings/) by name."
    )
    encoding: str | None = Field(default=None, description="csv: the payloads' text encoding.")
    header: list[str] | None = Field(
        default=None, description="Tabular formats: the origin's header cells, decoded."
    )
    origin_checksum: str | None = Field(
        default=None, description="SHA-256 of the whole origin (file), hex: the resume key."
    )
    cursor: str | None = Field(
        default=None, description="Polled endpoints: the cursor after this batch's records."
    )
    edifact_service: str | None = Field(
        default=None,
        min_length=6,
        max_length=6,
        description="cusdec: the six service characters (UNA advice or the defaults).",
    )
