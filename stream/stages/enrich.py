"""The stages chained for one line: normalise → classify → screen → alert.

The stream's ``enrich`` agent and the offline ``customs-watch classify`` command both call
:class:`Enricher`, so a line gets the same result online and offline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from schemas.alert import Alert
from schemas.declaration import Declaration, DeclarationBatch, RawRef
from schemas.enriched import EnrichedBatch, EnrichedDeclaration, HsCode
from schemas.rule_data import FxTable, RuleSet
from schemas.trusted import trusted
from stream.screening.matcher import Scorer
from stream.screening.names import NameNormaliser
from stream.stages import alert
from stream.stages.classify import Classification, Classifier
from stream.stages.guard import Failed, attempt
from stream.stages.normalise import Normaliser, usd_value
from stream.stages.party import PARTY_ROLES, PartyBook, PartyResolver
from stream.stages.screen import ScreenerSource, screen_parties

COUNTRY_FIELDS = (
    "origin_country",
    "dispatch_country",
    "destination_country",
    "exporter_country",
    "importer_country",
    "notify_country",
    "declarant_country",
    "reporter",
)


@dataclass(slots=True)
class EnrichedLines:
    lines: list[EnrichedDeclaration]
    alerts: list[Alert]
    rejected: list[tuple[Declaration, str]] = field(default_factory=list)
    """Lines a stage raised on, with the reason (:func:`stream.stages.guard.attempt`)."""


PARTY_FIELDS = tuple(
    f"{role}_{suffix}"
    for role, *_ in PARTY_ROLES
    for suffix in (
        ("party_id", "party", "party_name")
        if role in ("importer", "exporter")
        else ("party_id", "party_name")
    )
)


def party_book(rules: RuleSet, keep_pending: bool = True) -> PartyBook:
    """A party resolver over an empty registry, from the rule set."""
    normalise = NameNormaliser(rules.screening)
    resolver = PartyResolver(
        rules.parties, normalise, Scorer(rules.screening, normalise.generic_words)
    )
    return PartyBook(resolver, keep_pending=keep_pending)


class Enricher:
    """Holds the tables built from one rule set; calling it does no I/O."""

    def __init__(
        self,
        rules: RuleSet,
        fx: FxTable | None = None,
        screener: ScreenerSource | None = None,
        parties: PartyBook | None = None,
    ) -> None:
        self.rules = rules
        self.normalise = Normaliser(rules, fx)
        # typed as a call, not the class: a test may stand another callable in its place
        self.classify: Callable[[HsCode, str], Classification] = Classifier(rules)
        # A callable, so the worker can swap in a new watchlist version between lines.
        self.screener = screener
        # The worker passes the book its registry reader shares; offline, a private one.
        self.parties = parties or party_book(rules, keep_pending=False)

    def party_fields(self, fields: dict[str, Any]) -> dict[str, str | None]:
        """Each role's own party id, the party it stands for now, and its display name;
        resolution is cached per distinct (written name, country, identifier)."""
        out: dict[str, str | None] = dict.fromkeys(PARTY_FIELDS)  # all given: no defaults
        for role, name_field, country_field, id_field in PARTY_ROLES:
            name = fields.get(name_field)
            ident = fields.get(id_field) if id_field else None
            if not name and not ident:
                continue
            country = fields.get(country_field) if country_field else None
            own, party, display = self.parties.lookup(name, country, ident)
            if party is None:
                continue
            out[f"{role}_party_id"] = own
            out[f"{role}_party_name"] = display
            if role in ("importer", "exporter"):
                out[f"{role}_party"] = party
        return out

    def line(
        self, line: Declaration, ref: RawRef | None = None, now: datetime | None = None
    ) -> tuple[EnrichedDeclaration, list[Alert]]:
        hs, hs6_known = self.normalise.hs(line.hs_code)
        found = self.classify(hs, line.description)
        fields = dict(line.__dict__)  # what dict(line) gives, without pydantic's __iter__
        # A code too short to have an HS6 (or none) says so in hs_code_status, not in a flag.
        flags = ["hs6_not_in_hs2022"] if hs.hs6 and not hs6_known else []
        for name in COUNTRY_FIELDS:
            fields[name], resolved = self.normalise.country(fields[name])
            if not resolved:
                flags.append(f"{name}_unresolved")
        screener = self.screener() if self.screener else None
        hits = screen_parties(line, screener, fields) if screener else []
        parties = self.party_fields(fields)
        # Inputs were validated as a Declaration; construct without re-validating (hot path).
        # Added in the model's field order, so that the dict becomes the line's own.
        fields.update(
            hs_digits=hs.digits,
            hs2=hs.hs2,
            hs4=hs.hs4,
            hs6=hs.hs6,
            hs6_known=hs6_known,
            hs_code_status=hs.status,
            hs_version=found.hs_version or hs.version,
            hs2022_read=list(hs.read_as)
            if hs.status == "older_version" or found.hs_version
            else [],
            unit_code=self.normalise.unit(line.unit),
            value_usd=usd_value(line.value, line.currency, line.declared_at, self.normalise.fx),
            flags=flags,
            categories=list(found.categories),
            chpl_tier=found.chpl_tier,
            evidence=list(found.evidence),
            confidence=found.confidence,
            misdeclaration_suspected=found.misdeclaration_reason is not None,
            misdeclaration_reason=found.misdeclaration_reason,
            screening_hits=hits,
        )
        fields.update(parties)
        fields.update(
            alert_rules=[],
            rules_version=self.rules.version,
            raw_topic=ref.topic if ref else "",
            raw_partition=ref.partition if ref else -1,
            raw_offset=ref.offset if ref else -1,
            enriched_at=now or datetime.now(UTC),
        )
        enriched = trusted(EnrichedDeclaration, fields)
        alerts = alert.evaluate(enriched, self.rules.alerts)
        enriched.alert_rules.extend(a.rule for a in alerts)
        return enriched, alerts

    def lines(self, lines: list[Declaration], ref: RawRef | None = None) -> EnrichedLines:
        """Every line under the guard: a line any stage raises on is set aside in
        ``rejected`` with the reason, and the next line goes on."""
        now = datetime.now(UTC)
        out = EnrichedLines([], [])
        for line in lines:
            done = attempt(partial(self.line, line, ref, now))
            if isinstance(done, Failed):
                out.rejected.append((line, done.reason))
                continue
            out.lines.append(done[0])
            out.alerts.extend(done[1])
        return out

    def batch(self, batch: DeclarationBatch) -> tuple[EnrichedBatch, list[Alert]]:
        """All or nothing, for benches and tests: raises on the first rejected line (the
        ``enrich`` agent calls :meth:`lines` and dead-letters the rejected ones)."""
        result = self.lines(batch.lines, batch.raw)
        if result.rejected:
            line, reason = result.rejected[0]
            raise ValueError(f"line {line.declaration_id}/{line.line_no}: {reason}")
        return EnrichedBatch(source=batch.source, raw=batch.raw, lines=result.lines), result.alerts
