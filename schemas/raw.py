"""Raw records: what a feed delivered, byte for byte, with where it came from.

A Kafka message on ``customs.raw.<source>`` carries a :class:`RawBatch`: a bounded run of
consecutive records from one origin (file, endpoint). The batch is the unit that later
stages dedupe on, so a connector fixes batch boundaries once, at publish time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


def payload_checksum(payload: bytes) -> str:
    """SHA-256 of the bytes as received, hex."""
    return hashlib.sha256(payload).hexdigest()


class RawRecord(BaseModel):
    """One record as the feed delivered it (a JSONL line, a CSV row, an EDIFACT segment group)."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    source: str = Field(description="Feed name; also the suffix of the raw topic.")
    origin: str = Field(description="File path, URL or message id the record came from.")
    position: int = Field(ge=0, description="Line, row or segment number inside the origin.")
    payload: bytes = Field(description="The record's bytes exactly as received (base64 in JSON).")
    checksum: str = Field(description="SHA-256 of payload, hex.")
    received_at: datetime = Field(default_factory=utc_now)


class RawBatch(BaseModel):
    """Value of a ``customs.raw.<source>`` message: consecutive records from one origin."""

    model_config = ConfigDict(frozen=True)

    source: str
    origin: str
    records: list[RawRecord] = Field(min_length=1)
