"""A record no stage could process, kept whole with the reason, for inspection and replay."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.raw import Payload, utc_now


class DeadLetter(BaseModel):
    """Value of a ``customs.deadletter`` message."""

    model_config = ConfigDict(frozen=True)

    source: str
    origin: str = ""
    position: int | None = Field(default=None, description="Line/row/segment in the origin.")
    stage: str = Field(description="The stage that rejected the record (e.g. 'parse').")
    reason: str
    payload: Payload = Field(description="The original bytes (base64).")
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    failed_at: datetime = Field(default_factory=utc_now)
    context: dict[str, Any] = Field(
        default_factory=dict,
        description="How to read the payload again (format, mapping, encoding, header, "
        "sequence): what `deadletter replay` needs.",
    )

    def identity(self) -> str:
        """Same stage, same rejected record, same reason: the same letter, whenever it failed.
        A stage that runs again after a restart sends such a copy; the sink keeps one."""
        parts = [
            self.stage,
            self.source,
            self.origin,
            str(self.position),
            str(self.topic),
            str(self.partition),
            str(self.offset),
            self.reason,
        ]
        digest = hashlib.sha256("\x1f".join(parts).encode())
        digest.update(self.payload)
        return digest.hexdigest()[:32]
