"""Internal topics that feed the stateful alert stage.

``<prefix>.facts`` carries, per raw batch and target partition, each party's few fields per
line that the behavioural rules need and the stateless rules' alert candidates. A party
always goes to the partition its key hashes to (:func:`partition_of`), so all of a party's
lines reach the same partition and the same table shard, and one message carries every
party of that partition: a raw batch of 1 000 lines is a few messages, not one per party.
``<prefix>.flows`` carries value per (category, destination, period) the same way, for
``flow_surge``.
"""

from __future__ import annotations

import zlib
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
    source: str | None = None
    rules_version: str = ""
    importer_incorporated: date | None = Field(
        default=None,
        description="The registration date of the listed entity the importer matched, when "
        "its list gives one (the earliest of several).",
    )


class PartyFacts(BaseModel):
    """One party's lines from one raw batch."""

    model_config = ConfigDict(frozen=True)

    party_key: str = Field(description="Normalised importer name, else exporter name.")
    lines: list[LineFact] = Field(min_length=1)
    candidates: list[Alert] = Field(
        default_factory=list, description="Stateless rules' alerts, before grouping."
    )


class FactBatch(BaseModel):
    """Value of a ``<prefix>.facts`` message: the parties of one raw batch whose keys hash
    to the message's partition."""

    model_config = ConfigDict(frozen=True)

    raw: RawRef
    parties: list[PartyFacts] = Field(min_length=1)


class FlowFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str = Field(description="2024-Q2, 2024-05, … (rule parameter)")
    value_usd: float
    lines: int
    first_line: tuple[str, int] = Field(
        description="The period's first line by date, declaration id and line number."
    )
    first_seen: date
    last_seen: date


class FlowFacts(BaseModel):
    """One category × destination's value from one raw batch, per period."""

    model_config = ConfigDict(frozen=True)

    flow_key: str = Field(description="<category>|<destination ISO2>")
    facts: list[FlowFact] = Field(min_length=1)


class FlowBatch(BaseModel):
    """Value of a ``<prefix>.flows`` message: the flows of one raw batch whose keys hash to
    the message's partition."""

    model_config = ConfigDict(frozen=True)

    raw: RawRef
    flows: list[FlowFacts] = Field(min_length=1)
    source: str | None = None
    rules_version: str = ""


def partition_of(key: str, partitions: int) -> int:
    """The partition a party or flow key belongs to: a stable hash, the same in every
    process and run (Python's own ``hash`` of a string is salted per process)."""
    return zlib.crc32(key.encode()) % partitions
