"""The canonical declaration line every connector is mapped onto."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Flow = Literal["import", "export"]

# What the ClickHouse columns (schemas/clickhouse/*.sql) can hold, refused here line by line:
# one value out of a column's range would make ClickHouse refuse the sink's whole insert.
DECLARED_AT_MIN = date(1988, 1, 1)
"""The Harmonized System came into force on 1 January 1988: no HS-coded declaration is older."""
DECLARED_AT_MAX = date(2087, 12, 31)
"""``declarations`` is ``PARTITION BY toYear(declared_at)`` and ClickHouse refuses an insert
touching more than 100 partitions (``max_partitions_per_insert_block``): 1988–2087 is 100
years, so no batch of valid lines can exceed it."""
UINT32_MAX = 2**32 - 1
"""``line_no UInt32``."""
DECIMAL_38_4_LIMIT = Decimal("1e34")
"""``value Decimal(38, 4)`` holds 34 digits before the point: ``|value| < 10³⁴``."""
FLOAT64_LIMIT = Decimal("1e308")
"""``quantity``/``net_weight_kg Float64``: a larger decimal would become infinity."""


class Declaration(BaseModel):
    """One goods line of a customs declaration, as declared (no normalisation yet).

    Fields a feed does not know are absent (``None``). Unknown fields are kept in ``extra``
    rather than dropped, so a richer feed loses nothing before its mapping is extended.
    """

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    declaration_id: str = Field(min_length=1)
    line_no: int = Field(ge=1, le=UINT32_MAX)
    declared_at: date = Field(ge=DECLARED_AT_MIN, le=DECLARED_AT_MAX)
    flow: Flow
    reporter: str | None = Field(default=None, description="ISO2 of the customs administration.")
    hs_code: str = Field(
        default="",
        description="Commodity code as declared; may be blank or unusable (the line is then "
        "classified on its text, see hs_code_status on the enriched line).",
    )
    description: str = ""
    quantity: Decimal | None = Field(default=None, ge=-FLOAT64_LIMIT, le=FLOAT64_LIMIT)
    unit: str | None = None
    value: Decimal | None = Field(default=None, gt=-DECIMAL_38_4_LIMIT, lt=DECIMAL_38_4_LIMIT)
    currency: str | None = None
    net_weight_kg: Decimal | None = Field(default=None, ge=-FLOAT64_LIMIT, le=FLOAT64_LIMIT)
    origin_country: str | None = None
    dispatch_country: str | None = None
    destination_country: str | None = None
    exporter_name: str | None = None
    exporter_country: str | None = None
    exporter_id: str | None = None
    exporter_address: str | None = None
    importer_name: str | None = None
    importer_country: str | None = None
    importer_id: str | None = None
    importer_address: str | None = None
    notify_name: str | None = Field(default=None, description="Notify party (bills of lading).")
    notify_country: str | None = None
    notify_id: str | None = None
    declarant_name: str | None = Field(default=None, description="Customs broker or declarant.")
    declarant_country: str | None = None
    declarant_id: str | None = None
    manufacturer: str | None = None
    brand: str | None = None
    source: str | None = None
    source_record_id: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("hs_code", mode="before")
    @classmethod
    def _hs_code_as_text(cls, value: Any) -> Any:
        """A feed's null code is no code; a numeric one (JSON ``8806``) is read as written."""
        if value is None:
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _keep_unknown_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = cls.__pydantic_fields__
        if data.keys() <= known.keys():  # the usual line: nothing to keep aside
            return data
        unknown = {k: v for k, v in data.items() if k not in known}
        kept = {k: v for k, v in data.items() if k in known}
        kept["extra"] = {**dict(data.get("extra") or {}), **unknown}
        return kept

    @property
    def key(self) -> tuple[str, int]:
        """A line's address: (declaration_id, line_no)."""
        return (self.declaration_id, self.line_no)


class RawRef(BaseModel):
    """Where a batch of lines came from on the raw topic: the unit of exactly-once writes."""

    model_config = ConfigDict(frozen=True)

    topic: str
    partition: int
    offset: int

    def token(self) -> str:
        return f"{self.topic}-{self.partition}-{self.offset}"


class DeclarationBatch(BaseModel):
    """Value of a ``customs.declarations`` message: the valid lines parsed from one raw batch.

    Keyed by the first line's ``declaration_id``; the lines of one declaration that arrive
    together stay in one message.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    raw: RawRef
    lines: list[Declaration] = Field(min_length=1)
