"""Load the versioned rule data files under ``schemas/rules/`` into typed models.

Reads ``manifest.yaml`` (sources and version), ``chpl.csv`` (CHPL tiers per HS6),
``hs_categories.yaml`` (HS prefixes per category) and ``alert_rules.yaml`` (rule
parameters). A malformed or unsourced file raises :class:`InvalidRuleData` at load time,
never halfway through a stream.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.enriched import Category, ChplTier, Severity
from schemas.errors import InvalidRuleData

RULES_DIR = Path(__file__).resolve().parent / "rules"

_TIER_NAMES: dict[str, ChplTier] = {
    "Tier 1": "1",
    "Tier 2": "2",
    "Tier 3.A": "3A",
    "Tier 3.B": "3B",
    "Tier 4.A": "4A",
    "Tier 4.B": "4B",
}


class SourcedFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    what: str
    source: str = Field(min_length=3)
    source_url: str = Field(min_length=8)
    publisher: str
    retrieved: str
    licence: str


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    files: dict[str, SourcedFile]


class ChplEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    hs6: str = Field(pattern=r"^\d{6}$")
    tier: ChplTier
    description: str


class PrefixRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    prefix: str = Field(pattern=r"^\d{2,10}$")
    note: str


class CategoryPrefixes(BaseModel):
    model_config = ConfigDict(frozen=True)

    code_alone: list[PrefixRule] = Field(default_factory=list)
    needs_text: list[PrefixRule] = Field(default_factory=list)


class ChplToHighRiskRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    destinations: frozenset[str]
    severity_by_tier: dict[ChplTier, Severity]
    score_by_tier: dict[ChplTier, float]


class AlertRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    chpl_to_high_risk: ChplToHighRiskRule


class RuleSet(BaseModel):
    """Everything the pure stages need, loaded once per process."""

    model_config = ConfigDict(frozen=True)

    version: str
    chpl: dict[str, ChplEntry]
    categories: dict[Category, CategoryPrefixes]
    alerts: AlertRules


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidRuleData(f"{path.name}: {exc}") from exc


def _read_chpl(path: Path) -> dict[str, ChplEntry]:
    entries: dict[str, ChplEntry] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for line_no, row in enumerate(csv.DictReader(handle), start=2):
                tier = _TIER_NAMES.get(row["tier"])
                if tier is None:
                    raise InvalidRuleData(f"{path.name}:{line_no}: unknown tier {row['tier']!r}")
                if not row.get("source"):
                    raise InvalidRuleData(f"{path.name}:{line_no}: row has no source")
                entry = ChplEntry(hs6=row["hs_code"], tier=tier, description=row["description"])
                entries[entry.hs6] = entry
    except (OSError, KeyError, ValidationError) as exc:
        raise InvalidRuleData(f"{path.name}: {exc}") from exc
    return entries


def load_rules(rules_dir: Path = RULES_DIR) -> RuleSet:
    """Read and validate every rule file in ``rules_dir``."""
    try:
        manifest = Manifest.model_validate(_read_yaml(rules_dir / "manifest.yaml"))
        for name in ("chpl.csv", "hs_categories.yaml", "alert_rules.yaml"):
            if name not in manifest.files:
                raise InvalidRuleData(f"manifest.yaml does not name a source for {name}")
        categories = _read_yaml(rules_dir / "hs_categories.yaml")["categories"]
        alerts = _read_yaml(rules_dir / "alert_rules.yaml")["rules"]
        return RuleSet(
            version=manifest.version,
            chpl=_read_chpl(rules_dir / "chpl.csv"),
            categories=categories,
            alerts=alerts,
        )
    except (ValidationError, KeyError, TypeError) as exc:
        raise InvalidRuleData(f"rule data in {rules_dir}: {exc}") from exc


@cache
def default_rules() -> RuleSet:
    """The packaged rule set, loaded once per process."""
    return load_rules()
