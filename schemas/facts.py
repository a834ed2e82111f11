"""Internal topics that feed the stateful alert stage.

``<prefix>.facts`` carries, per party and raw batch, the few fields of each line that the
behavioural rules need and the stateless rules' alert candidates; it is keyed by the party's
normalised name, so all of a party's lines reach the same partition and the same table
shard. ``<prefix>.flows`` carries value per (category, destination, period), keyed by
category and destination, for ``flow_surge``.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from schemas.alert import Alert
from schemas.declaration import RawRef


class LineFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    declaration_id: str
    line_no: int
    declared_at: date
    importer_name: str | None = None
    importer_country: str | None = None
    exporter_name: str | None = None
    exporter_country: str | None = None
    destination_country: str | None = None
    categories: list[str] = Field(default_factory=list)
    chpl_tier: str | None = None
    value_usd: float | None = None
    description: str = ""
    source: str | None = None
    rules_version: str = ""


class FactBatch(BaseModel):
    """Value of a ``<prefix>.facts`` message: one party's lines from one raw batch."""

    model_config = ConfigDict(frozen=True)

    party_key: str = Field(description="Normalised importer name, else exporter name.")
    raw: RawRef
    lines: list[LineFact] = Field(min_length=1)
    candidates: list[Alert] = Field(
        default_factory=list, description="Stateless rules' alerts, before grouping."
    )


class FlowFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str = Field(description="2024-Q2, 2024-05, … (rule parameter)")
    value_usd: float
    lines: int
    first_line: tuple[str, int]


class FlowBatch(BaseModel):
    """Value of a ``<prefix>.flows`` message: one category × destination's value from one
    raw batch, per period."""

    model_config = ConfigDict(frozen=True)

    flow_key: str = Field(description="<category>|<destination ISO2>")
    raw: RawRef
    facts: list[FlowFact] = Field(min_length=1)
    source: str | None = None
    rules_version: str = ""
