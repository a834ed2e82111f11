"""Versioned layouts of tabular customs exports (``schemas/mappings/*.yaml``).

A :class:`Mapping` names the header cells (aliases) that hold each canonical
:class:`~schemas.declaration.Declaration` field, how the file writes dates and numbers, and
the fields fixed for a whole feed (``constants``). Aliases match whatever their case,
spacing and punctuation (:func:`header_key`). A malformed mapping raises
:class:`~schemas.errors.InvalidMapping` when it is loaded, never halfway through a file.
"""

from __future__ import annotations

import codecs
import unicodedata
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.declaration import Declaration
from schemas.errors import InvalidMapping

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"

FIELDS = frozenset(Declaration.model_fields) - {"line_no", "extra"}
"""Fields a column or a constant may fill; line numbers come from ``line_no_column``."""

NEEDED = ("declaration_id", "declared_at", "flow")
"""Declaration fields without a default: a mapping must give each a column or a constant.
The commodity code is not one: bills of lading and many exports carry none (issue 15)."""

ISO_DATE = "%Y-%m-%d"


def header_key(text: str) -> str:
    """A header cell as aliases are compared: NFKC, casefolded, letters/digits/symbols only."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")


class Target(NamedTuple):
    """What a header alias fills: a canonical field, the line number, or a named extra key."""

    kind: Literal["field", "line_no", "extra"]
    name: str
    rank: int
    """Position of the alias in its list: when several columns match, the lowest rank wins."""


class Mapping(BaseModel):
    """One mapping file: a tabular export layout onto the canonical declaration line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(min_length=1)
    description: str = Field(min_length=1)
    source: str = Field(min_length=20, description="Which public description the layout follows.")
    format: Literal["csv", "xlsx", "any"]
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str | None = Field(default=None, description="Fixed encoding; null = detect.")
    header_row: int = Field(default=1, ge=1, description="Physical row (1-based) of the header.")
    columns: dict[str, list[str]]
    line_no_column: list[str] = Field(
        default_factory=list,
        description="Aliases of the line-number column; without one the caller counts rows "
        "per declaration_id and passes the count to map_row.",
    )
    extra_fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Named keys of `extra` → aliases; kept even with extra_columns: reject.",
    )
    date_formats: list[str] = Field(min_length=1)
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: tuple[str, ...] = ()
    constants: dict[str, str] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=lambda: ["declaration_id", "declared_at"])
    extra_columns: Literal["keep", "reject"] = "keep"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError as exc:
                raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @field_validator("delimiter")
    @classmethod
    def _usable_delimiter(cls, value: str) -> str:
        if value in '"\r\n' or value.isalnum():
            raise ValueError(f"{value!r} cannot delimit cells")
        return value

    @field_validator("line_no_column", mode="before")
    @classmethod
    def _one_alias_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("thousands_separator", mode="before")
    @classmethod
    def _separators(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value] if value else []
        for sep in value:
            if not isinstance(sep, str) or len(sep) != 1 or sep.isdigit() or sep in "+-":
                raise ValueError(f"a thousands separator is one non-digit character, not {sep!r}")
        return value

    @field_validator("columns", "constants")
    @classmethod
    def _canonical_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - FIELDS)
        if unknown:
            hint = " (line numbers use line_no_column)" if "line_no" in unknown else ""
            raise ValueError(f"unknown canonical field {', '.join(unknown)}{hint}")
        return value

    @field_validator("required")
    @classmethod
    def _required_names(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - FIELDS)
        if unknown:
            raise ValueError(f"unknown canonical field {', '.join(unknown)}")
        return value

    @field_validator("constants")
    @classmethod
    def _flow_constant(cls, value: dict[str, str]) -> dict[str, str]:
        if "flow" in value and value["flow"] not in ("import", "export"):
            raise ValueError(f"flow must be import or export, not {value['flow']!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Mapping:
        if self.decimal_separator in self.thousands_separator:
            raise ValueError(f"{self.decimal_separator!r} is both decimal and thousands separator")
        _alias_targets(self)  # raises on empty or clashing aliases
        for name in (*NEEDED, *self.required):
            if name not in self.columns and name not in self.constants:
                raise ValueError(f"no column or constant gives {name}")
        needs_iso = self.format != "csv" and "declared_at" in self.columns
        if needs_iso and ISO_DATE not in self.date_formats:
            raise ValueError(
                f"date_formats needs {ISO_DATE} for .xlsx files (date cells are read as ISO)"
            )
        return self

    @cached_property
    def aliases(self) -> dict[str, Target]:
        """Every alias by :func:`header_key`, with what it fills."""
        return _alias_targets(self)

    def aliases_of(self, field: str) -> list[str]:
        """The aliases of a canonical field as written in the file (for error messages)."""
        return self.columns.get(field, [])


def _label(target: Target) -> str:
    if target.kind == "extra":
        return f"extra_fields.{target.name}"
    return "line_no_column" if target.kind == "line_no" else target.name


def _alias_targets(mapping: Mapping) -> dict[str, Target]:
    groups: list[tuple[Literal["field", "line_no", "extra"], str, list[str]]] = [
        *(("field", name, aliases) for name, aliases in mapping.columns.items()),
        *(("extra", name, aliases) for name, aliases in mapping.extra_fields.items()),
    ]
    if mapping.line_no_column:
        groups.append(("line_no", "line_no", mapping.line_no_column))
    table: dict[str, Target] = {}
    for kind, name, aliases in groups:
        label = _label(Target(kind, name, 0))
        if not aliases:
            raise ValueError(f"{label} has no aliases")
        for rank, alias in enumerate(aliases):
            key = header_key(alias)
            if not key:
                raise ValueError(f"{label}: alias {alias!r} has no letters or digits")
            claimed = table.get(key)
            if claimed is not None and (claimed.kind, claimed.name) != (kind, name):
                raise ValueError(
                    f"alias {alias!r} is claimed by both {_label(claimed)} and {label}"
                )
            if claimed is None:
                table[key] = Target(kind, name, rank)
    return table


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def load_mapping(path: Path) -> Mapping:
    """Read and validate one mapping file; raises InvalidMapping with the reason."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidMapping(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidMapping(f"{path.name}: expected a mapping of keys, got {type(data).__name__}")
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise InvalidMapping(f"{path.name}: {_describe(exc)}") from exc


@cache
def _packaged(directory: Path) -> dict[str, Mapping]:
    mappings: dict[str, Mapping] = {}
    for path in sorted(directory.glob("*.yaml")):
        mapping = load_mapping(path)
        if mapping.name != path.stem:
            raise InvalidMapping(f"{path.name}: name {mapping.name!r} differs from the file name")
        mappings[mapping.name] = mapping
    return mappings


def packaged_mappings(directory: Path = MAPPINGS_DIR) -> dict[str, Mapping]:
    """Every mapping under ``schemas/mappings/`` by name, loaded once per process."""
    return dict(_packaged(directory))
