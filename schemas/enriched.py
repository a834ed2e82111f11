"""A declaration line after normalisation, classification, screening and alerting."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.declaration import Declaration, RawRef
from schemas.raw import utc_now

DECIMAL_38_2_LIMIT = Decimal("1e36")
"""``value_usd Decimal(38, 2)`` holds 36 digits before the point: ``|value_usd| < 10³⁶``."""

Severity = Literal["low", "medium", "high", "critical"]
ChplTier = Literal["1", "2", "3A", "3B", "4A", "4B"]
Category = Literal[
    "body_armor",
    "helmet",
    "armor_ceramics",
    "uav",
    "thermal_imaging",
    "night_vision",
    "weapon_optics",
    "firearms",
    "microelectronics",
    "gnss",
    "radio_comms",
]


class Evidence(BaseModel):
    """Why a category or tier was given: which code prefix or term matched, and where."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["hs_prefix", "hs_heading", "hs_correlation", "term"]
    target: str = Field(description="The category or 'chpl' the evidence supports.")
    matched: str = Field(description="The code prefix or the term that matched.")
    field: str = Field(default="hs_code", description="Which declaration field matched.")
    language: str | None = None
    start: int | None = Field(
        default=None, description="Start of the match in the normalised field text."
    )
    end: int | None = None
    text: str | None = Field(default=None, description="The words that matched, as written.")


class ScreeningHit(BaseModel):
    """A party on the line that matched a watchlist entry (by identifier or by name)."""

    model_config = ConfigDict(frozen=True)

    role: str
    party_name: str
    party_country: str | None = None
    dataset: str = Field(description="The watchlist the entity was loaded from.")
    entity_id: str
    entity_name: str = Field(description="The entity's caption on its list.")
    entity_schema: str = ""
    matched_name: str = Field(default="", description="The list name or alias that matched.")
    matched_by: Literal["identifier", "name", "address"] = "name"
    score: float = Field(ge=0, le=1)
    explanation: str = Field(default="", description="Which features matched, and how.")
    entity_incorporated: date | None = Field(
        default=None, description="The entity's registration date, when its list gives one."
    )


HsCodeStatus = Literal[
    "valid",
    "national",
    "older_version",
    "heading_only",
    "chapter_only",
    "several",
    "unknown",
    "missing",
    "unreadable",
]
"""How a declared commodity code was read (:mod:`stream.stages.hs_reading`):

- ``valid``: an HS 2022 subheading (6 digits); ``national``: 7-10 digits whose HS6 is one;
- ``older_version``: its HS6 exists only in an older HS vintage, read through the
  correlation table (``hs_version`` says which);
- ``heading_only`` / ``chapter_only``: 4 / 2 digits;
- ``several``: more than one code in the field (``8542.31; 8542.39``), the first is read;
- ``unknown``: 6+ digits in no HS vintage;
- ``missing``: no code (blank, ``N/A``); ``unreadable``: digits that are no code (``0``).

Only the code is judged: the line is classified on its text whatever the status."""


class HsCode(BaseModel):
    """A commodity code reduced to its digits, with the HS levels derived from it."""

    model_config = ConfigDict(frozen=True)

    declared: str
    digits: str
    hs2: str
    hs4: str
    hs6: str
    status: HsCodeStatus = "valid"
    version: str = Field(default="", description="HS vintage the code was read as (HS2022...).")
    read_as: tuple[str, ...] = Field(
        default=(), description="HS 2022 subheadings an older code correlates to."
    )
    others: tuple[str, ...] = Field(default=(), description="Further codes declared, as digits.")


class EnrichedDeclaration(Declaration):
    """A :class:`Declaration` plus everything the stream derived from it."""

    hs_digits: str
    hs2: str
    hs4: str
    hs6: str
    hs6_known: bool = Field(default=False, description="The HS6 exists in HS 2022.")
    hs_code_status: HsCodeStatus = "valid"
    hs_version: str = Field(
        default="", description="HS vintage the code was read as: HS2022, HS2017, ... or ''."
    )
    hs2022_read: list[str] = Field(
        default_factory=list,
        description="HS 2022 subheadings an older-vintage code was read as (correlation).",
    )
    unit_code: str | None = Field(default=None, description="UN/ECE Rec. 20 unit code.")
    value_usd: Decimal | None = Field(
        default=None,
        gt=-DECIMAL_38_2_LIMIT,
        lt=DECIMAL_38_2_LIMIT,
        description="Value at the configured rate.",
    )
    flags: list[str] = Field(
        default_factory=list,
        description="Data-quality findings: hs6_not_in_hs2022, <field>_unresolved.",
    )
    categories: list[Category] = Field(default_factory=list)
    chpl_tier: ChplTier | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = Field(default=0.0, ge=0, le=1)
    misdeclaration_suspected: bool = False
    misdeclaration_reason: str | None = None
    screening_hits: list[ScreeningHit] = Field(default_factory=list)
    importer_party_id: str | None = Field(
        default=None,
        description="The written importer's own party id (from its normalised name and "
        "country, else its identifier); ClickHouse resolves it through party_merges.",
    )
    importer_party: str | None = Field(
        default=None,
        description="The party the importer stood for when enriched, through the merges "
        "known then; the stateful rules key on it.",
    )
    importer_party_name: str | None = Field(
        default=None, description="That party's display name when enriched."
    )
    exporter_party_id: str | None = None
    exporter_party: str | None = None
    exporter_party_name: str | None = None
    notify_party_id: str | None = None
    notify_party_name: str | None = None
    declarant_party_id: str | None = None
    declarant_party_name: str | None = None
    manufacturer_party_id: str | None = None
    manufacturer_party_name: str | None = None
    alert_rules: list[str] = Field(default_factory=list)
    rules_version: str = ""
    raw_topic: str = ""
    raw_partition: int = -1
    raw_offset: int = -1
    enriched_at: datetime = Field(default_factory=utc_now)


class EnrichedBatch(BaseModel):
    """Value of a ``customs.enriched`` message: the enriched lines of one declarations message."""

    model_config = ConfigDict(frozen=True)

    source: str
    raw: RawRef
    lines: list[EnrichedDeclaration] = Field(min_length=1)


WRITER_HEADER = "customs-watch-writer"
"""Kafka header the worker puts on every enriched batch it builds: :func:`writer_mark`. The
sink reads a message carrying the mark it would write itself without validating it again
(its lines were validated on the way in and enriched by the same code); any other message,
and any the quick reading fails on, is validated in full."""


BATCH_HEADER = "customs-watch-batch"
"""Kafka header the worker puts beside the writer mark: ``<identity> <line count>`` of the
enriched batch (:func:`batch_header`). With both, the sink hands the lines' JSON to ClickHouse
as the worker wrote it, unread; it reads the lines only if ClickHouse refuses them."""


def enriched_identity(batch: EnrichedBatch) -> str:
    """What a redelivered copy shares with the original: the raw message it came from *and*
    the lines it carries. A raw message parsed again after a stage restarted gives the same
    lines; a raw message at the same offset of a topic deleted and created again (offsets
    restart at 0) gives other lines, so it is not taken for a copy. ``enriched_at`` and the
    derived fields are left out: they differ between two runs over the same input."""
    digest = hashlib.sha256(f"{batch.raw.token()}\x1e{batch.source}".encode())
    for line in batch.lines:
        key = f"\x1e{line.declaration_id}\x1f{line.line_no}\x1f{line.source_record_id or ''}"
        digest.update(key.encode())
    return digest.hexdigest()[:32]


def batch_header(batch: EnrichedBatch) -> bytes:
    """The value of :data:`BATCH_HEADER` for ``batch``."""
    return f"{enriched_identity(batch)} {len(batch.lines)}".encode("ascii")


@cache
def writer_mark() -> bytes:
    """The fingerprint of the enriched batch's JSON Schema: a worker and a sink agree on it
    only when they read and write the same record shape."""
    schema = json.dumps(EnrichedBatch.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()[:16].encode()
