"""Stateful alert rules and grouping, as pure functions over plain-dict state.

The ``alerts`` and ``flows`` agents keep the state in faust tables (changelog-backed, so a
restart keeps it); ``stateful.py`` runs a batch through these functions against that state,
and tests call both with dicts. Every alert id is derived from the rule, the party (or
flow) and a window or period of the declaration date, so replaying the same lines yields
the same ids.

State shapes (JSON-serialisable):

* importer: ``{"first_seen": "2024-03-05", "months": {"2024-03": 123.0, ...},
  "applied": ["<raw topic>-<partition>-<offset>", ...]}`` (the raw messages already counted,
  so lines delivered again after a rebalance or restart are not summed twice; flows keep
  the same list)
* group: ``{"alert": <Alert JSON>}`` (lines, ``line_count``, first and last seen)
* flow: ``{"totals": {"2024-Q1": 1234.0, ...}, "fired": ["2024-Q2"], "applied": [...]}``
  per flow key
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from schemas.alert import Alert, LineKey, Party, alert_id
from schemas.facts import LineFact
from schemas.rule_data import AlertRules, FlowSurgeRule

NEW_IMPORTER_CHPL = "new_importer_chpl"
IMPORTER_SURGE = "importer_surge"
FLOW_SURGE = "flow_surge"
MAX_GROUP_LINES = 1000  # an alert lists at most this many lines; `line_count` has them all


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_of(day: date, period: str) -> str:
    if period == "month":
        return month_of(day)
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if period == "half":
        return f"{day.year}-H{(day.month - 1) // 6 + 1}"
    return str(day.year)


def previous_period(label: str, period: str) -> str:
    if period == "month":
        year, month = map(int, label.split("-"))
        return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    if period in ("quarter", "half"):
        year_text, part_text = label.split("-")
        year, part = int(year_text), int(part_text[1:])
        last = 4 if period == "quarter" else 2
        return (
            f"{year - 1}-{part_text[0]}{last}" if part == 1 else f"{year}-{part_text[0]}{part - 1}"
        )
    return str(int(label) - 1)


def _months_before(month: str, count: int) -> list[str]:
    year, number = map(int, month.split("-"))
    out = []
    for _ in range(count):
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
        out.append(f"{year:04d}-{number:02d}")
    return out


def _seen(fact: LineFact) -> datetime:
    return datetime(fact.declared_at.year, fact.declared_at.month, fact.declared_at.day)


def _alert(
    rule: str,
    severity: str,
    score: float,
    reason: str,
    fact: LineFact,
    id_parts: tuple[str, ...],
    categories: list[str] | None = None,
    parties: list[Party] | None = None,
) -> Alert:
    return Alert.model_validate(
        {
            "alert_id": alert_id(rule, *id_parts),
            "rule": rule,
            "severity": severity,
            "score": round(score, 4),
            "reason": reason,
            "lines": [LineKey(declaration_id=fact.declaration_id, line_no=fact.line_no)],
            "parties": parties if parties is not None else _parties(fact),
            "categories": categories if categories is not None else list(fact.categories),
            "chpl_tier": fact.chpl_tier,
            "destination_country": fact.destination_country,
            "source": fact.source,
            "rules_version": fact.rules_version,
            "first_seen": _seen(fact),
            "last_seen": _seen(fact),
        }
    )


def _parties(fact: LineFact) -> list[Party]:
    out = []
    if fact.importer_name:
        out.append(Party(role="importer", name=fact.importer_name, country=fact.importer_country))
    if fact.exporter_name:
        out.append(Party(role="exporter", name=fact.exporter_name, country=fact.exporter_country))
    return out


# --- importers -------------------------------------------------------------------------


def observe_importer(state: dict[str, Any] | None, fact: LineFact) -> dict[str, Any]:
    """The importer's state after this line (first date seen, value per month)."""
    first = fact.declared_at.isoformat()
    months = dict((state or {}).get("months", {}))
    month = month_of(fact.declared_at)
    months[month] = months.get(month, 0.0) + (fact.value_usd or 0.0)
    before = (state or {}).get("first_seen")
    return {"first_seen": min(before, first) if before else first, "months": months}


def new_importer_chpl(
    party_key: str, before: dict[str, Any] | None, fact: LineFact, rules: AlertRules
) -> Alert | None:
    rule = rules.rules.new_importer_chpl
    kind = rules.destination_kind(fact.destination_country)
    battlefield = rules.rules.battlefield_goods_to_high_risk.categories
    sensitive = fact.chpl_tier is not None or bool(battlefield.intersection(fact.categories))
    if kind is None or not sensitive or not fact.importer_name:
        return None
    first_seen = date.fromisoformat(before["first_seen"]) if before else fact.declared_at
    first_seen = min(first_seen, fact.declared_at)
    recent = (fact.declared_at - first_seen).days <= rule.recent_days
    if first_seen < rule.new_since and not recent:
        return None
    goods = ", ".join(fact.categories) or f"CHPL tier {fact.chpl_tier}"
    reason = (
        f"importer {fact.importer_name!r} first seen in the feed on {first_seen.isoformat()}"
        f"{' (after 2022-02-24)' if first_seen >= rule.new_since else ''} imports {goods} "
        f"bound for {fact.destination_country}"
    )
    return _alert(
        NEW_IMPORTER_CHPL, rule.severity[kind], rule.score, reason, fact, (party_key,), None
    )


def importer_surge(
    party_key: str, after: dict[str, Any], fact: LineFact, rules: AlertRules
) -> Alert | None:
    """Fires once per importer and month (the id has the month), when the month's value
    reaches ``factor`` x the baseline; later lines of that month join it by grouping."""
    rule = rules.rules.importer_surge
    month = month_of(fact.declared_at)
    months: dict[str, float] = after["months"]
    current = months.get(month, 0.0)
    history = [months[m] for m in _months_before(month, rule.baseline_months) if months.get(m)]
    if not history or current < rule.min_month_usd:
        return None
    baseline = sum(history) / len(history)
    if baseline < rule.min_baseline_usd or current < rule.factor * baseline:
        return None
    reason = (
        f"importer {fact.importer_name or party_key!r}: {current:,.0f} USD in {month}, "
        f"{current / baseline:.0f}x its mean of {baseline:,.0f} USD over the {len(history)} "
        f"month(s) with trade before"
    )
    alert = _alert(IMPORTER_SURGE, rule.severity, rule.score, reason, fact, (party_key, month))
    return alert.model_copy(update={"subject": month})


# --- grouping --------------------------------------------------------------------------


ONCE_PER_PARTY = frozenset({NEW_IMPORTER_CHPL})


def group_key(candidate: Alert, party_key: str, declared_at: date, window: str) -> str:
    """Alerts with the same key are one alert: rule, party, subject (the listed entity, the
    category, or the CHPL tier), and calendar window of the declaration date."""
    if candidate.rule in ONCE_PER_PARTY:
        return f"{candidate.rule}|{party_key}"
    subject = candidate.subject or (
        candidate.categories[0] if candidate.categories else f"tier{candidate.chpl_tier}"
    )
    return f"{candidate.rule}|{party_key}|{subject}|{period_of(declared_at, window)}"


@dataclass
class Grouped:
    alert: Alert
    new: bool
    changed: bool


def line_keys(alert: Alert) -> set[tuple[str, int]]:
    return {(k.declaration_id, k.line_no) for k in alert.lines}


def group(
    current: Alert | None,
    key: str,
    candidate: Alert,
    known: set[tuple[str, int]] | None = None,
) -> Grouped:
    """Merge a candidate into its group's alert; ``new`` when it opened the group,
    ``changed`` when it added a line (a replayed line changes nothing). ``known`` is
    ``line_keys(current)`` when the caller keeps it; it is updated in place."""
    if current is None:
        opened = candidate.model_copy(update={"alert_id": alert_id("group", key)})
        if known is not None:
            known.update(line_keys(candidate))
        return Grouped(opened, new=True, changed=True)
    if known is None:
        known = line_keys(current)
    added = [k for k in candidate.lines if (k.declaration_id, k.line_no) not in known]
    if not added:
        return Grouped(current, new=False, changed=False)
    known.update((k.declaration_id, k.line_no) for k in added)
    merged = current.model_copy(
        update={
            "lines": [*current.lines, *added][:MAX_GROUP_LINES],
            "line_count": current.line_count + len(added),
            "first_seen": min(current.first_seen, candidate.first_seen),
            "last_seen": max(current.last_seen, candidate.last_seen),
            "score": max(current.score, candidate.score),
            "categories": sorted({*current.categories, *candidate.categories}),
        }
    )
    return Grouped(merged, new=False, changed=True)


def group_state(alert: Alert) -> dict[str, Any]:
    """What the ``alert_groups`` table keeps for a group."""
    return {"alert": alert.model_dump(mode="json")}


def group_alert(state: dict[str, Any] | None) -> Alert | None:
    return None if state is None else Alert.model_validate(state["alert"])


# --- flows -----------------------------------------------------------------------------


def flow_surge(
    flow_key: str,
    state: dict[str, Any],
    period: str,
    first_line: tuple[str, int],
    rule: FlowSurgeRule,
    source: str | None,
    rules_version: str,
) -> Alert | None:
    """Fires once per flow and period when the period's value so far exceeds the previous
    period's by ``threshold``."""
    if period in state.get("fired", []):
        return None
    totals: dict[str, float] = state.get("totals", {})
    current = totals.get(period, 0.0)
    previous = totals.get(previous_period(period, rule.period), 0.0)
    if previous < rule.min_previous_usd or current < previous * (1 + rule.threshold):
        return None
    category, destination = flow_key.split("|", 1)
    change = current / previous - 1
    reason = (
        f"{category} to {destination}: {current:,.0f} USD in {period} so far, "
        f"{change:+.0%} on {previous_period(period, rule.period)} ({previous:,.0f} USD)"
    )
    now = datetime.now()
    return Alert.model_validate(
        {
            "alert_id": alert_id(FLOW_SURGE, flow_key, period),
            "rule": FLOW_SURGE,
            "severity": rule.severity,
            "score": rule.score,
            "reason": reason,
            "lines": [LineKey(declaration_id=first_line[0], line_no=first_line[1])],
            "parties": [],
            "categories": [category],
            "subject": f"{flow_key}|{period}",
            "destination_country": destination,
            "source": source,
            "rules_version": rules_version,
            "first_seen": now,
            "last_seen": now,
        }
    )
