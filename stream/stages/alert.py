"""Stage ``alert``: stateless rules over one enriched line (parameters in alert_rules.yaml)."""

from __future__ import annotations

from schemas.alert import Alert, LineKey, Party, alert_id
from schemas.enriched import EnrichedDeclaration
from schemas.rule_data import AlertRules

CHPL_TO_HIGH_RISK = "chpl_to_high_risk"


def line_parties(line: EnrichedDeclaration) -> list[Party]:
    named = (
        ("importer", line.importer_name, line.importer_country, line.importer_id),
        ("exporter", line.exporter_name, line.exporter_country, line.exporter_id),
        ("manufacturer", line.manufacturer, None, None),
    )
    return [
        Party(role=role, name=name, country=country, id=party_id)
        for role, name, country, party_id in named
        if name
    ]


def chpl_to_high_risk(line: EnrichedDeclaration, rules: AlertRules) -> Alert | None:
    rule = rules.chpl_to_high_risk
    tier = line.chpl_tier
    destination = line.destination_country
    if tier is None or destination not in rule.destinations:
        return None
    seen = line.enriched_at
    return Alert(
        alert_id=alert_id(
            CHPL_TO_HIGH_RISK, line.source or "", line.declaration_id, str(line.line_no)
        ),
        rule=CHPL_TO_HIGH_RISK,
        severity=rule.severity_by_tier[tier],
        score=rule.score_by_tier[tier],
        reason=(
            f"HS {line.hs6} is on the Common High Priority List (tier {tier}) and the line is "
            f"bound for {destination}"
        ),
        lines=[LineKey(declaration_id=line.declaration_id, line_no=line.line_no)],
        parties=line_parties(line),
        categories=list(line.categories),
        chpl_tier=tier,
        destination_country=destination,
        source=line.source,
        rules_version=line.rules_version,
        first_seen=seen,
        last_seen=seen,
    )


RULES = (chpl_to_high_risk,)


def evaluate(line: EnrichedDeclaration, rules: AlertRules) -> list[Alert]:
    """Every stateless rule that fires on ``line``."""
    return [alert for rule in RULES if (alert := rule(line, rules)) is not None]
