"""Load the versioned rule data files under ``schemas/rules/`` into typed models.

Reads ``manifest.yaml`` (sources and version), ``chpl.csv`` (CHPL tiers per HS6),
``hs2022_subheadings.csv`` (valid HS6 codes), ``hs_correlation.csv`` (older HS vintages
read as HS 2022), ``hs_categories.yaml`` (HS prefixes per
category, cover headings), ``lexicon.yaml`` (terms per category and language),
``country_aliases.yaml``, ``units.yaml``, ``alert_rules.yaml`` and ``screening.yaml`` (rule
parameters); and, when
configured, a rate table such as ``fx_rates_sample.yaml``. A malformed or unsourced file
raises :class:`InvalidRuleData` at load time, never halfway through a stream.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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
    accepts: Literal["strong", "weak"] = "strong"


class CategoryPrefixes(BaseModel):
    model_config = ConfigDict(frozen=True)

    code_alone: list[PrefixRule] = Field(default_factory=list)
    needs_text: list[PrefixRule] = Field(default_factory=list)


class TextPattern(BaseModel):
    """A regular expression over the normalised text, tried only on texts that hold one of
    ``requires`` (literal strings every match contains, such as its unit)."""

    model_config = ConfigDict(frozen=True)

    pattern: str
    requires: list[str] = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"pattern {value!r}: {exc}") from exc
        return value


class LexiconCategory(BaseModel):
    """Terms per language (en, ru, uk, zh) for each role; see lexicon.yaml for the roles."""

    model_config = ConfigDict(frozen=True)

    strong: dict[str, list[str]] = Field(default_factory=dict)
    weak: dict[str, list[str]] = Field(default_factory=dict)
    qualifiers: dict[str, list[str]] = Field(default_factory=dict)
    negative: dict[str, list[str]] = Field(default_factory=dict)
    yields_to: list[Category] = Field(default_factory=list)
    patterns: dict[Literal["strong", "weak", "qualifiers", "negative"], dict[str, TextPattern]] = (
        Field(default_factory=dict)
    )
    """Per role, named regular expressions over the normalised text (wavebands)."""


class ProductModel(BaseModel):
    """A product line whose model name carries a capability (``Mavic 3T``, ``Thermion 2
    XP50``); see product_models.yaml. ``requires``: word beginnings every match holds."""

    model_config = ConfigDict(frozen=True)

    name: str
    maker: str
    categories: list[Category] = Field(min_length=1)
    pattern: str
    requires: list[str] = Field(min_length=1)
    examples: list[str] = Field(min_length=1)
    source: str
    checked: bool
    seen_in: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"pattern {value!r}: {exc}") from exc
        return value


class FxTable(BaseModel):
    """US dollars per unit of currency, by year."""

    model_config = ConfigDict(frozen=True)

    currency_aliases: dict[str, list[str]] = Field(default_factory=dict)
    rates: dict[int, dict[str, Decimal]]

    @cached_property
    def _codes(self) -> dict[str, str]:
        return {
            str(a).casefold(): iso
            for iso, aliases in self.currency_aliases.items()
            for a in aliases
        }

    def currency_code(self, declared: str) -> str:
        """ISO 4217 code of a declared currency (``руб`` → RUB), built once per table."""
        text = declared.strip()
        return self._codes.get(text.casefold(), text.upper())

    def usd_rate(self, currency: str, on: date) -> Decimal | None:
        return self.rates.get(on.year, {}).get(currency)


DestinationKind = Literal["restricted", "third_country", "lower_weight_third_country"]


class BattlefieldRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    categories: frozenset[Category]
    severity: dict[DestinationKind, Severity]
    score: dict[DestinationKind, float]


class ChplToHighRiskRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    severity_by_tier: dict[ChplTier, Severity]
    score_by_tier: dict[ChplTier, float]
    third_country_severity_by_tier: dict[ChplTier, Severity]
    third_country_score_factor: float = Field(gt=0, le=1)


class TransshipmentRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    severity: Severity
    score: float
    chpl_reexport_severity: Severity
    chpl_reexport_score: float


class SanctionedPartyRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    severity_by_match: dict[Literal["identifier", "strong", "name"], Severity]
    strong_score: float = Field(ge=0, le=1)


class MisdeclarationRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    severity: dict[Literal["restricted", "third_country", "other"], Severity]
    score: dict[Literal["restricted", "third_country", "other"], float]


class NewImporterRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    new_since: date
    recent_days: int = Field(ge=1)
    severity: dict[DestinationKind, Severity]
    score: float


class ImporterSurgeRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    factor: float = Field(gt=1)
    baseline_months: int = Field(ge=1)
    min_baseline_usd: float = Field(ge=0)
    min_month_usd: float = Field(ge=0)
    severity: Severity
    score: float


class SharedAddressRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    severity: Severity
    score: float


class FlowSurgeRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    period: Literal["month", "quarter", "half", "year"]
    threshold: float = Field(gt=0)
    min_previous_usd: float = Field(ge=0)
    severity: Severity
    score: float


class RuleParameters(BaseModel):
    model_config = ConfigDict(frozen=True)

    battlefield_goods_to_high_risk: BattlefieldRule
    chpl_to_high_risk: ChplToHighRiskRule
    transshipment: TransshipmentRule
    sanctioned_party: SanctionedPartyRule
    misdeclaration: MisdeclarationRule
    new_importer_chpl: NewImporterRule
    importer_surge: ImporterSurgeRule
    shared_address: SharedAddressRule
    flow_surge: FlowSurgeRule


class Grouping(BaseModel):
    model_config = ConfigDict(frozen=True)

    window: Literal["month", "quarter", "half", "year"]
    listed_lines: int = Field(default=50, ge=1, le=1000)


class AlertRules(BaseModel):
    """``alert_rules.yaml``: destination lists and each rule's parameters."""

    model_config = ConfigDict(frozen=True)

    restricted_destinations: frozenset[str]
    high_risk_third_countries: frozenset[str]
    lower_weight_third_countries: frozenset[str]
    partner_countries: frozenset[str]
    rules: RuleParameters
    grouping: Grouping

    def destination_kind(self, country: str | None) -> DestinationKind | None:
        """How risky a destination is: restricted, (lower-weight) third country, or None."""
        if country is None:
            return None
        if country in self.restricted_destinations:
            return "restricted"
        if country in self.lower_weight_third_countries:
            return "lower_weight_third_country"
        if country in self.high_risk_third_countries:
            return "third_country"
        return None


READINGS = frozenset(
    {
        "code+text",
        "code",
        "weak code+text",
        "text",
        "weak code+qualified",
        "weak code+weak text",
        "qualified",
    }
)


class OrgVocabulary(BaseModel):
    """Words naming the kind of body a company is, in every language (``org_vocabulary.yaml``)."""

    model_config = ConfigDict(frozen=True)

    concepts: dict[str, list[str]]
    abbreviations: dict[str, list[str]]
    dropped: frozenset[str]
    legal_forms: list[list[str]] = []
    """Sequences of concept words that are a legal form, not a name ("state unitary
    enterprise"): removed after the mapping, whichever spelling brought them."""

    @property
    def concept_words(self) -> frozenset[str]:
        """Every word of every concept ("machine building" gives two)."""
        return frozenset(w for c in self.concepts for w in c.split(" "))

    @model_validator(mode="after")
    def _known_concepts(self) -> OrgVocabulary:
        unknown = {c for words in self.abbreviations.values() for c in words}
        unknown |= {c for form in self.legal_forms for c in form}
        unknown -= set(self.concepts)
        if unknown:
            raise ValueError(f"org vocabulary names undefined concepts: {sorted(unknown)}")
        return self


class ScreeningRules(BaseModel):
    """Parameters of name screening (``screening.yaml``)."""

    model_config = ConfigDict(frozen=True)

    threshold: float = Field(ge=0, le=1)
    country_mismatch_penalty: float = Field(ge=0, le=1)
    identifier_score: float = Field(ge=0, le=1)
    identifier_min_length: int = Field(ge=1)
    allowed_edits: list[tuple[int, int]] = Field(min_length=1)
    generic_weight: float = Field(ge=0, le=1)
    generic_words: frozenset[str]
    conflict_weight: float = Field(ge=0)
    equivalents: dict[str, list[str]]
    legal_forms: list[tuple[str, ...]]
    folds: list[tuple[str, str]]
    romanised_letters: dict[str, str] = Field(default_factory=dict)
    """Letters of scholarly and standard Romanisations (GOST 7.79, ISO 9, scientific,
    ALA-LC: ``č``, ``š``, ``ʹ``) written the way the loose spellings are, before the
    name is made ASCII (which would drop the háček: ``č`` is ``ch``, not ``c``)."""
    max_key_postings: int = Field(ge=1)
    max_candidates: int = Field(ge=1)
    max_pool: int = Field(ge=1)
    prefilter_cutoff: float = Field(ge=0, le=100)
    address_noise: frozenset[str] = Field(default_factory=frozenset)
    cache_size: int = Field(ge=0)
    organisation: OrgVocabulary | None = None
    """``org_vocabulary.yaml``, read beside ``screening.yaml``."""
    pinyin_syllables: frozenset[str] = frozenset()
    """``pinyin_syllables.yaml``: a Latin name made of these alone is read as pinyin too."""

    @field_validator("allowed_edits")
    @classmethod
    def _ascending(cls, value: list[tuple[int, int]]) -> list[tuple[int, int]]:
        if value[0][0] != 0 or [r[0] for r in value] != sorted({r[0] for r in value}):
            raise ValueError("allowed_edits rows must start at length 0 and ascend")
        return value

    def edits_allowed(self, length: int) -> int:
        allowed = 0
        for min_length, edits in self.allowed_edits:
            if length < min_length:
                break
            allowed = edits
        return allowed


class IdentifierScheme(BaseModel):
    """One identifier scheme python-stdnum validates (``parties.yaml``)."""

    model_config = ConfigDict(frozen=True)

    scheme: str
    module: str
    linking: bool = True


class PartyRules(BaseModel):
    """Parameters of party resolution (``parties.yaml``)."""

    model_config = ConfigDict(frozen=True)

    threshold: float = Field(ge=0, le=1)
    country_mismatch_penalty: float = Field(ge=0, le=1)
    identifier_schemes: list[IdentifierScheme]
    other_identifier_min_length: int = Field(ge=1)
    acronym_max_length: int = Field(ge=2)
    cache_size: int = Field(ge=0)
    max_pool: int = Field(ge=1)


HsCorrelation = dict[str, tuple[str, tuple[str, ...]]]
"""Older-vintage HS6 → (vintage, the HS 2022 subheadings it correlates to)."""


class RuleSet(BaseModel):
    """Everything the pure stages need, loaded once per process."""

    model_config = ConfigDict(frozen=True)

    version: str
    chpl: dict[str, ChplEntry]
    hs2022: frozenset[str]
    hs_correlation: HsCorrelation = Field(default_factory=dict)
    categories: dict[Category, CategoryPrefixes]
    cover_headings: list[PrefixRule]
    lexicon: dict[Category, LexiconCategory]
    confidence: dict[str, float]
    exclusions: dict[str, list[str]] = Field(default_factory=dict)
    examples: dict[str, list[str]] = Field(default_factory=dict)
    product_models: list[ProductModel] = Field(default_factory=list)

    @field_validator("confidence")
    @classmethod
    def _every_reading_has_a_confidence(cls, value: dict[str, float]) -> dict[str, float]:
        missing = READINGS - set(value)
        if missing:
            raise ValueError(f"lexicon.yaml confidence lacks {sorted(missing)}")
        return value

    country_aliases: dict[str, list[str]]
    units: dict[str, list[str]]
    alerts: AlertRules
    screening: ScreeningRules
    parties: PartyRules


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


def _read_hs6(path: Path) -> frozenset[str]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            codes = frozenset(row["hs6"] for row in csv.DictReader(handle))
    except (OSError, KeyError) as exc:
        raise InvalidRuleData(f"{path.name}: {exc}") from exc
    if not codes or any(len(c) != 6 or not c.isdigit() for c in codes):
        raise InvalidRuleData(f"{path.name}: expected six-digit codes")
    return codes


def _read_correlation(path: Path, hs2022: frozenset[str]) -> HsCorrelation:
    table: HsCorrelation = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for line_no, row in enumerate(csv.DictReader(handle), start=2):
                code, targets = row["hs6"], tuple(row["hs2022"].split())
                if (
                    len(code) != 6
                    or not code.isdigit()
                    or not targets
                    or not set(targets) <= hs2022
                ):
                    raise InvalidRuleData(f"{path.name}:{line_no}: not an HS6 → HS 2022 row")
                table[code] = (row["vintage"], targets)
    except (OSError, KeyError) as exc:
        raise InvalidRuleData(f"{path.name}: {exc}") from exc
    return table


REQUIRED_FILES = (
    "org_vocabulary.yaml",
    "pinyin_syllables.yaml",
    "chpl.csv",
    "hs2022_subheadings.csv",
    "hs_correlation.csv",
    "hs_categories.yaml",
    "lexicon.yaml",
    "product_models.yaml",
    "country_aliases.yaml",
    "units.yaml",
    "alert_rules.yaml",
    "screening.yaml",
    "parties.yaml",
)


def load_rules(rules_dir: Path = RULES_DIR) -> RuleSet:
    """Read and validate every rule file in ``rules_dir``."""
    try:
        manifest = Manifest.model_validate(_read_yaml(rules_dir / "manifest.yaml"))
        for name in REQUIRED_FILES:
            if name not in manifest.files:
                raise InvalidRuleData(f"manifest.yaml does not name a source for {name}")
        hs_categories = _read_yaml(rules_dir / "hs_categories.yaml")
        lexicon = _read_yaml(rules_dir / "lexicon.yaml")
        hs2022 = _read_hs6(rules_dir / "hs2022_subheadings.csv")
        return RuleSet(
            version=manifest.version,
            chpl=_read_chpl(rules_dir / "chpl.csv"),
            hs2022=hs2022,
            hs_correlation=_read_correlation(rules_dir / "hs_correlation.csv", hs2022),
            categories=hs_categories["categories"],
            cover_headings=hs_categories["cover_headings"],
            lexicon=lexicon["categories"],
            confidence=lexicon["confidence"],
            exclusions=lexicon.get("exclusions") or {},
            examples=lexicon.get("examples") or {},
            product_models=_read_yaml(rules_dir / "product_models.yaml")["models"],
            country_aliases=_read_yaml(rules_dir / "country_aliases.yaml")["aliases"],
            units=_read_yaml(rules_dir / "units.yaml")["units"],
            alerts=_read_yaml(rules_dir / "alert_rules.yaml"),
            screening={
                **_read_yaml(rules_dir / "screening.yaml"),
                "organisation": _read_yaml(rules_dir / "org_vocabulary.yaml"),
                "pinyin_syllables": _read_yaml(rules_dir / "pinyin_syllables.yaml")["syllables"],
            },
            parties=_read_yaml(rules_dir / "parties.yaml"),
        )
    except (ValidationError, KeyError, TypeError) as exc:
        raise InvalidRuleData(f"rule data in {rules_dir}: {exc}") from exc


def _read_zh_traditional(path: Path) -> dict[int, int]:
    table: dict[int, int] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.DictReader(line for line in handle if not line.startswith("#"))
            for line_no, row in enumerate(rows, start=2):
                old, new = row["traditional"], row["simplified"]
                if len(old) != 1 or len(new) != 1:
                    raise InvalidRuleData(f"{path.name}:{line_no}: not one character to one")
                table[ord(old)] = ord(new)
    except (OSError, KeyError) as exc:
        raise InvalidRuleData(f"{path.name}: {exc}") from exc
    return table


@cache
def zh_traditional_table(rules_dir: Path = RULES_DIR) -> dict[int, int]:
    """Traditional → simplified Chinese, one character to one (a ``str.translate`` table,
    so that text lengths and evidence positions do not change)."""
    return _read_zh_traditional(rules_dir / "zh_traditional.csv")


def load_fx_rates(path: Path) -> FxTable:
    try:
        return FxTable.model_validate(_read_yaml(path))
    except (ValidationError, KeyError, TypeError) as exc:
        raise InvalidRuleData(f"{path}: {exc}") from exc


@cache
def default_rules() -> RuleSet:
    """The packaged rule set, loaded once per process."""
    return load_rules()


def fx_table(path: Path | None) -> FxTable | None:
    """The configured rate table, or None when no table is configured."""
    return None if path is None else load_fx_rates(path)
