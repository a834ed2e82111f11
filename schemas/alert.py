"""An alert: what fired, why, on which lines and parties, and how serious it is."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.enriched import Severity
from schemas.raw import utc_now


class LineKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    declaration_id: str
    line_no: int


class Party(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["exporter", "importer", "manufacturer", "notify", "declarant"]
    name: str
    country: str | None = None
    id: str | None = None


def alert_id(rule: str, *parts: str) -> str:
    """Deterministic id, so replaying the same lines yields the same alert ids."""
    digest = hashlib.sha256("\x1f".join((rule, *parts)).encode()).hexdigest()
    return digest[:32]


class Alert(BaseModel):
    """Value of a ``customs.alerts`` message, keyed by the importer (else exporter) name."""

    model_config = ConfigDict(frozen=True)

    alert_id: str
    rule: str
    severity: Severity
    score: float = Field(ge=0, le=1)
    reason: str = Field(description="Human-readable evidence: what matched and why it matters.")
    lines: list[LineKey] = Field(min_length=1)
    parties: list[Party] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    subject: str | None = Field(
        default=None,
        description="What the alert is about beyond the party: the listed entity id "
        "(sanctioned_party), the flow (flow_surge), the month (importer_surge).",
    )
    line_count: int = Field(default=1, ge=1, description="Lines grouped into this alert.")
    chpl_tier: str | None = None
    destination_country: str | None = None
    source: str | None = None
    rules_version: str = ""
    suppressed_by: str | None = Field(
        default=None,
        description="Set when an approved suppression (party × rule, from the ops console) "
        "covers the alert: it is stored but not published to watchers.",
    )
    withdrawn: bool = Field(
        default=False,
        description="A version of a stateful alert (new importer, surges) whose condition no "
        "longer holds once lines that arrived late are counted; the alert stands again if a "
        "later version is not withdrawn.",
    )
    first_seen: datetime
    last_seen: datetime
    created_at: datetime = Field(default_factory=utc_now)

    def partition_key(self) -> str:
        for role in ("importer", "exporter"):
            for party in self.parties:
                if party.role == role:
                    return party.name
        return self.lines[0].declaration_id


class AlertBatch(BaseModel):
    """Value of a ``<prefix>.alert-versions`` message: the versions one worker group of
    events produced for one partition, for the sink (the ``alerts`` table keeps the latest
    version per alert id)."""

    model_config = ConfigDict(frozen=True)

    alerts: list[Alert] = Field(min_length=1)
