"""Stage ``alert``: stateless rules over one enriched line (parameters in alert_rules.yaml).

Rule names are part of the interface: ``battlefield_goods_to_high_risk``,
``chpl_to_high_risk``, ``transshipment``, ``sanctioned_party``, ``shared_address``,
``misdeclaration``. Each
alert's id is derived from the rule and the line (and the listed entity for
``sanctioned_party``), so a replayed line raises the same alert id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from schemas.alert import Alert, LineKey, Party, alert_id
from schemas.enriched import EnrichedDeclaration, Severity
from schemas.raw import utc_now
from schemas.rule_data import AlertRules
from schemas.trusted import trusted

BATTLEFIELD = "battlefield_goods_to_high_risk"
CHPL_TO_HIGH_RISK = "chpl_to_high_risk"
TRANSSHIPMENT = "transshipment"
SANCTIONED_PARTY = "sanctioned_party"
SHARED_ADDRESS = "shared_address"
MISDECLARATION = "misdeclaration"

_DESTINATION_WORDS = {
    "restricted": "under Russia/Belarus restrictions or occupied",
    "third_country": "a high-risk third country",
    "lower_weight_third_country": "a third country with a lower transshipment weight",
}


def line_parties(line: EnrichedDeclaration) -> list[Party]:
    named = (
        ("importer", line.importer_name, line.importer_country, line.importer_id),
        ("exporter", line.exporter_name, line.exporter_country, line.exporter_id),
        ("manufacturer", line.manufacturer, None, None),
        ("notify", line.notify_name, line.notify_country, line.notify_id),
        ("declarant", line.declarant_name, line.declarant_country, line.declarant_id),
    )
    return [
        trusted(Party, {"role": role, "name": name, "country": country, "id": party_id})
        for role, name, country, party_id in named
        if name
    ]


def _alert(
    line: EnrichedDeclaration,
    rule: str,
    severity: Severity,
    score: float,
    reason: str,
    *id_parts: str,
    subject: str | None = None,
) -> Alert:
    seen = line.enriched_at
    # Every field comes from a validated line or validated rule data: construct without
    # validating again (this runs for every alerting line).
    key = {"declaration_id": line.declaration_id, "line_no": line.line_no}
    return trusted(
        Alert,
        {
            "alert_id": alert_id(
                rule, line.source or "", line.declaration_id, str(line.line_no), *id_parts
            ),
            "rule": rule,
            "severity": severity,
            "score": round(score, 4),
            "reason": reason,
            "lines": [trusted(LineKey, key)],
            "parties": line_parties(line),
            "categories": list(line.categories),
            "subject": subject,
            "line_count": 1,
            "chpl_tier": line.chpl_tier,
            "destination_country": line.destination_country,
            "source": line.source,
            "rules_version": line.rules_version,
            "suppressed_by": None,
            "withdrawn": False,
            "first_seen": seen,
            "last_seen": seen,
            "created_at": utc_now(),
        },
    )


def battlefield_goods_to_high_risk(line: EnrichedDeclaration, rules: AlertRules) -> list[Alert]:
    rule = rules.rules.battlefield_goods_to_high_risk
    kind = rules.destination_kind(line.destination_country)
    found = [c for c in line.categories if c in rule.categories]
    if kind is None or not found:
        return []
    reason = (
        f"{', '.join(found)} ({line.description[:80]!r}, HS {line.hs_code}) bound for "
        f"{line.destination_country}, {_DESTINATION_WORDS[kind]}"
    )
    return [_alert(line, BATTLEFIELD, rule.severity[kind], rule.score[kind], reason)]


def chpl_to_high_risk(line: EnrichedDeclaration, rules: AlertRules) -> list[Alert]:
    rule = rules.rules.chpl_to_high_risk
    tier = line.chpl_tier
    kind = rules.destination_kind(line.destination_country)
    if tier is None or kind is None:
        return []
    if kind == "restricted":
        severity, score = rule.severity_by_tier[tier], rule.score_by_tier[tier]
    else:
        severity = rule.third_country_severity_by_tier[tier]
        score = rule.score_by_tier[tier] * rule.third_country_score_factor
    reason = (
        f"HS {line.hs6} is on the Common High Priority List (tier {tier}) and the line is "
        f"bound for {line.destination_country}, {_DESTINATION_WORDS[kind]}"
    )
    return [_alert(line, CHPL_TO_HIGH_RISK, severity, score, reason)]


def transshipment(line: EnrichedDeclaration, rules: AlertRules) -> list[Alert]:
    rule = rules.rules.transshipment
    if rules.destination_kind(line.destination_country) != "restricted":
        return []
    origin, dispatch = line.origin_country, line.dispatch_country
    third = rules.high_risk_third_countries
    if origin in rules.partner_countries and dispatch in third and dispatch != origin:
        reason = (
            f"made in {origin} (export-control partner), dispatched from {dispatch} "
            f"(high-risk third country) to {line.destination_country}"
        )
        return [_alert(line, TRANSSHIPMENT, rule.severity, rule.score, reason)]
    trader = line.exporter_country
    if line.chpl_tier and trader in third and origin and origin != trader:
        reason = (
            f"CHPL tier {line.chpl_tier} goods made in {origin} re-exported by "
            f"{line.exporter_name or 'a trader'} in {trader} to {line.destination_country}"
        )
        return [
            _alert(
                line, TRANSSHIPMENT, rule.chpl_reexport_severity, rule.chpl_reexport_score, reason
            )
        ]
    return []


def sanctioned_party(line: EnrichedDeclaration, rules: AlertRules) -> list[Alert]:
    rule = rules.rules.sanctioned_party
    alerts = []
    for hit in line.screening_hits:
        if hit.matched_by == "address":
            continue
        if hit.matched_by == "identifier":
            match: Literal["identifier", "strong", "name"] = "identifier"
        else:
            match = "strong" if hit.score >= rule.strong_score else "name"
        reason = (
            f"{hit.role} {hit.party_name!r} matches {hit.entity_name!r} ({hit.entity_id}, "
            f"list {hit.dataset}) as {hit.matched_name!r}, score {hit.score:.2f}: "
            f"{hit.explanation}"
        )
        alerts.append(
            _alert(
                line,
                SANCTIONED_PARTY,
                rule.severity_by_match[match],
                hit.score,
                reason,
                hit.role,
                hit.dataset,
                hit.entity_id,
                subject=f"{hit.dataset}:{hit.entity_id}",
            )
        )
    return alerts


def shared_address(line: EnrichedDeclaration, rules: AlertRules) -> list[Alert]:
    rule = rules.rules.shared_address
    return [
        _alert(
            line,
            SHARED_ADDRESS,
            rule.severity,
            rule.score,
            f"{hit.role} {hit.party_name!r} is at the address of listed {hit.entity_name!r} "
            f"({hit.entity_id}, list {hit.dataset}): {hit.explanation}",
            hit.role,
            hit.dataset,
            hit.entity_id,
            subject=f"{hit.dataset}:{hit.entity_id}",
        )
        for hit in line.screening_hits
        if hit.matched_by == "address"
    ]


def misdeclaration(line: EnrichedDeclaration, rules: AlertRules) -> list[Alert]:
    if not line.misdeclaration_suspected:
        return []
    rule = rules.rules.misdeclaration
    kind = rules.destination_kind(line.destination_country)
    level: Literal["restricted", "third_country", "other"] = (
        "other" if kind is None else "restricted" if kind == "restricted" else "third_country"
    )
    reason = line.misdeclaration_reason or "strong text under an unrelated heading"
    if line.destination_country:
        reason += f"; bound for {line.destination_country}"
    return [_alert(line, MISDECLARATION, rule.severity[level], rule.score[level], reason)]


RULES: tuple[Callable[[EnrichedDeclaration, AlertRules], list[Alert]], ...] = (
    battlefield_goods_to_high_risk,
    chpl_to_high_risk,
    transshipment,
    sanctioned_party,
    shared_address,
    misdeclaration,
)


def evaluate(line: EnrichedDeclaration, rules: AlertRules) -> list[Alert]:
    """Every stateless rule that fires on ``line``."""
    return [alert for rule in RULES for alert in rule(line, rules)]
