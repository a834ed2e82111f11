"""A record no stage could process, kept whole with the reason, for inspection and replay."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.raw import utc_now


class DeadLetter(BaseModel):
    """Value of a ``customs.deadletter`` message."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    source: str
    origin: str = ""
    position: int | None = Field(default=None, description="Line/row/segment in the origin.")
    stage: str = Field(description="The stage that rejected the record (e.g. 'parse').")
    reason: str
    payload: bytes = Field(description="The original bytes (base64 in JSON).")
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    failed_at: datetime = Field(default_factory=utc_now)
