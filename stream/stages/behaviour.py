"""Stateful alert rules and grouping, as pure functions over plain-dict state.

The ``alerts`` and ``flows`` agents keep the state in faust tables (changelog-backed, so a
restart keeps it); ``stateful.py`` runs a batch through these functions against that state,
and tests call both with dicts. Every alert id is derived from the rule, the party (or
flow) and a window or period of the declaration date, so replaying the same lines yields
the same ids.

State shapes (JSON-serialisable; line orders are ``[date ISO, declaration id, line no]``):

* importer: ``{"first_seen": "2024-03-05", "incorporated": "2023-11-20" (the earliest
  registration date a list gives for it, when one does), "months": {"2024-03": {"v": value,
  "n": lines, "first": order, "top": [value, order], "last": date, "lead": parties}},
  "sensitive":
  {"2024-03-05": {"n", "sev", "cats", "tier"}}, "listed": [order, ...], "lead": {...},
  "open": {alert: signature},
  "applied": ["<raw topic>-<partition>-<offset>", ...]}`` (the raw messages already counted,
  so lines delivered again after a rebalance or restart are not summed twice; flows keep
  the same list)
* group: ``{"alert": <Alert JSON>}`` (lines, ``line_count``, first and last seen)
* flow: ``{"periods": {"2024-Q1": {"v", "n", "first", "last"}}, "open": {period:
  signature}, "applied": [...]}`` per flow key
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, get_args

from schemas.alert import Alert, LineKey, Party, alert_id
from schemas.enriched import Severity
from schemas.facts import LineFact
from schemas.raw import utc_now
from schemas.rule_data import AlertRules, DestinationKind, FlowSurgeRule
from schemas.trusted import trusted

NEW_IMPORTER_CHPL = "new_importer_chpl"
IMPORTER_SURGE = "importer_surge"
FLOW_SURGE = "flow_surge"
SEVERITIES: tuple[str, ...] = get_args(Severity)
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
MAX_GROUP_LINES = 1000  # an alert lists at most this many lines; `line_count` has them all


def month_of(day: date) -> str:
    return day.isoformat()[:7]  # YYYY-MM


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


@lru_cache(maxsize=4096)
def _months_before(month: str, count: int) -> tuple[str, ...]:
    """The ``count`` months before ``month``, latest first (remembered: every batch asks
    again for each month an importer traded in)."""
    year, number = map(int, month.split("-"))
    out = []
    for _ in range(count):
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
        out.append(f"{year:04d}-{number:02d}")
    return tuple(out)


@lru_cache(maxsize=4096)
def _months_after(month: str, count: int) -> tuple[str, ...]:
    """The ``count`` months after ``month``, earliest first: the months whose
    :func:`_months_before` holds ``month``."""
    year, number = map(int, month.split("-"))
    out = []
    for _ in range(count):
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
        out.append(f"{year:04d}-{number:02d}")
    return tuple(out)


# --- importers -------------------------------------------------------------------------
#
# Every stateful rule is restated from its key's state after each batch, and the state holds
# only sums, counts, extremes and the smallest line keys: none of that depends on the order
# the lines arrived in. So the alerts standing once every line is in are the same whatever the
# partitioning, the packing or the processing order; an alert whose condition stops holding
# when earlier lines arrive late is published again as withdrawn.

LineOrder = list[Any]
"""``[declared_at ISO, declaration_id, line_no]``: lines sort by date, then id, then number."""


def line_order(fact: LineFact) -> LineOrder:
    return [fact.declared_at.isoformat(), fact.declaration_id, fact.line_no]


def _smaller(a: LineOrder | None, b: LineOrder) -> bool:
    return a is None or (b[0], b[1], b[2]) < (a[0], a[1], a[2])


def _sensitive_kind(fact: LineFact, rules: AlertRules) -> DestinationKind | None:
    """The destination kind of a CHPL or battlefield line bound for a risky destination."""
    if not fact.importer_name:
        return None
    battlefield = rules.rules.battlefield_goods_to_high_risk.categories
    if fact.chpl_tier is None and battlefield.isdisjoint(fact.categories):
        return None
    return rules.destination_kind(fact.destination_country)


def _lead(fact: LineFact) -> dict[str, Any]:
    """What an alert about this line's importer shows of it."""
    return {
        "importer_name": fact.importer_name,
        "importer_country": fact.importer_country,
        "exporter_name": fact.exporter_name,
        "exporter_country": fact.exporter_country,
        "destination_country": fact.destination_country,
        "source": fact.source,
        "rules_version": fact.rules_version,
    }


def observe_importer(
    state: dict[str, Any] | None, facts: list[LineFact], rules: AlertRules
) -> dict[str, Any]:
    """The importer's state after these lines: first date seen, per month its value, line
    count, first line and last date, and the CHPL/battlefield lines to risky destinations
    per day (for ``new_importer_chpl``) with the smallest ``listed_lines`` of them.

    ``state`` is left as it was: a month or day entry the lines change is copied first
    (only those: an importer's state holds every month it traded in)."""
    state = dict(state or {})
    months: dict[str, dict[str, Any]] = dict(state.get("months", {}))
    sensitive: dict[str, dict[str, Any]] = dict(state.get("sensitive", {}))
    own_months: set[str] = set()  # entries that are this call's own (new or copied)
    own_days: set[str] = set()
    listed: list[LineOrder] = list(state.get("listed", []))
    lead = state.get("lead")
    first_seen = state.get("first_seen")
    incorporated: str | None = state.get("incorporated")
    severity = rules.rules.new_importer_chpl.severity
    for fact in facts:
        day = fact.declared_at.isoformat()
        order = [day, fact.declaration_id, fact.line_no]  # line_order(fact)
        first_seen = day if first_seen is None else min(first_seen, day)
        if fact.importer_incorporated is not None:
            registered = fact.importer_incorporated.isoformat()
            incorporated = registered if incorporated is None else min(incorporated, registered)
        month = day[:7]  # month_of(fact.declared_at): ISO dates start with the month
        entry = months.get(month)
        if entry is None:
            entry = months[month] = {"v": 0.0, "n": 0, "last": day}
            own_months.add(month)
        elif month not in own_months:
            entry = months[month] = dict(entry)
            own_months.add(month)
        value = fact.value_usd or 0.0
        entry["v"] += value
        entry["n"] += 1
        if day > entry["last"]:
            entry["last"] = day
        if _smaller(entry.get("first"), order):
            entry["first"], entry["lead"] = order, _lead(fact)
        top = entry.get("top")
        if top is None or value > top[0] or (value == top[0] and _smaller(top[1], order)):
            entry["top"] = [value, order]
        kind = _sensitive_kind(fact, rules)
        if kind is None:
            continue
        rank = SEVERITY_RANK[severity[kind]]
        seen = sensitive.get(day)
        if seen is None:
            seen = sensitive[day] = {"n": 0, "sev": rank, "cats": [], "tier": None}
            own_days.add(day)
        elif day not in own_days:
            seen = sensitive[day] = dict(seen)
            own_days.add(day)
        seen["n"] += 1
        seen["sev"] = max(seen["sev"], rank)
        seen["cats"] = sorted({*seen["cats"], *fact.categories})
        if fact.chpl_tier is not None and (seen["tier"] is None or fact.chpl_tier < seen["tier"]):
            seen["tier"] = fact.chpl_tier
        if order not in listed:
            listed.append(order)
        if lead is None or _smaller(lead["order"], order):
            lead = {"order": order, **_lead(fact)}
    listed.sort(key=lambda k: (k[0], k[1], k[2]))
    state.update(first_seen=first_seen, months=months)
    if incorporated is not None:
        state["incorporated"] = incorporated
    if sensitive:
        state.update(sensitive=sensitive, listed=listed[: rules.grouping.listed_lines], lead=lead)
    return state


def _keys(orders: list[LineOrder]) -> list[LineKey]:
    return [trusted(LineKey, {"declaration_id": o[1], "line_no": o[2]}) for o in orders]


def _importer_alert(values: dict[str, Any]) -> Alert:
    """An importer rule's alert from what the rule computed out of its state (values of
    the fields' types by construction): built without validating them again."""
    return trusted(
        Alert,
        {
            "subject": None,
            "categories": [],
            "chpl_tier": None,
            "suppressed_by": None,
            **values,
            "created_at": utc_now(),
        },
    )


def _day(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _lead_parties(lead: dict[str, Any]) -> list[Party]:
    out = []
    for role in ("importer", "exporter"):
        if lead.get(f"{role}_name"):
            party = {"role": role, "name": lead[f"{role}_name"], "country": lead[f"{role}_country"]}
            out.append(trusted(Party, {**party, "id": None}))
    return out


def _registered(incorporated: str | None, first_sensitive: str) -> str:
    """How long before its first CHPL/battlefield line the company was registered, as its
    list gives the date; empty when no list does."""
    if incorporated is None:
        return ""
    days = (date.fromisoformat(first_sensitive) - date.fromisoformat(incorporated)).days
    when = f"{days} days before" if days >= 0 else f"{-days} days after"
    return f"registered on {incorporated}, {when} its first CHPL/battlefield line"


def new_importer_chpl(
    party_key: str,
    state: dict[str, Any],
    rules: AlertRules,
    reported: bool = False,
    unchanged: str | None = None,
) -> Alert | None:
    """One alert per importer, over its CHPL/battlefield lines to risky destinations that
    count: all of them when it was first seen on or after ``new_since``, else those within
    ``recent_days`` of its first line. ``None`` when none count and none was reported; a
    withdrawn version when one was reported and none count any more. ``None`` too when the
    alert would carry the :func:`signature` ``unchanged`` (the one last reported): it is no
    new version, so it is not built."""
    sensitive: dict[str, dict[str, Any]] = state.get("sensitive", {})
    if not sensitive:
        return None
    rule = rules.rules.new_importer_chpl
    first_seen = date.fromisoformat(state["first_seen"])
    after = first_seen >= rule.new_since
    bound = None if after else (first_seen + timedelta(days=rule.recent_days)).isoformat()
    days = sorted(d for d in sensitive if bound is None or d <= bound)
    if not days and not reported:
        return None
    withdrawn = not days
    days = days or sorted(sensitive)
    listed = [k for k in state["listed"] if withdrawn or bound is None or k[0] <= bound]
    lead = state["lead"]
    lines = listed or [lead["order"]]
    cats = sorted(set().union(*(sensitive[d]["cats"] for d in days)))
    severity = SEVERITIES[max(sensitive[d]["sev"] for d in days)]
    line_count = sum(sensitive[d]["n"] for d in days)
    if unchanged is not None and unchanged == _mark(
        withdrawn, line_count, severity, len(lines), lines[0][1], lines[0][2], cats
    ):
        return None
    tiers = sorted(t for d in days if (t := sensitive[d]["tier"]) is not None)
    goods = ", ".join(cats) or f"CHPL tier {tiers[0]}"
    reason = (
        f"importer {lead['importer_name']!r} first seen in the feed on {first_seen.isoformat()}"
        f"{' (after 2022-02-24)' if after else ''} imports {goods} bound for "
        f"{lead['destination_country']}"
    )
    registered = _registered(state.get("incorporated"), min(sensitive))
    if registered:
        reason = f"{reason}; {registered}"
    if withdrawn:
        reason = f"withdrawn: earlier lines of the importer arrived; {reason}, not recently"
    return _importer_alert(
        {
            "alert_id": alert_id("group", f"{NEW_IMPORTER_CHPL}|{party_key}"),
            "rule": NEW_IMPORTER_CHPL,
            "severity": severity,
            "score": rule.score,
            "reason": reason,
            "lines": _keys(lines),
            "line_count": line_count,
            "parties": _lead_parties(lead),
            "categories": cats,
            "chpl_tier": tiers[0] if tiers else None,
            "destination_country": lead["destination_country"],
            "source": lead["source"],
            "rules_version": lead["rules_version"],
            "first_seen": _day(days[0]),
            "last_seen": _day(days[-1]),
            "withdrawn": withdrawn,
        }
    )


def surge_months(state: dict[str, Any], touched: set[str], rules: AlertRules) -> list[str]:
    """The months whose surge may have changed: those the batch touched and the months whose
    baseline holds one of them."""
    months: dict[str, Any] = state.get("months", {})
    span = rules.rules.importer_surge.baseline_months
    out = set(touched)
    for month in touched:  # a month's baseline holds it: one of the `span` months after it
        out.update(_months_after(month, span))
    return sorted(m for m in out if m in months)


def importer_surge(
    party_key: str,
    state: dict[str, Any],
    month: str,
    rules: AlertRules,
    reported: bool = False,
    unchanged: str | None = None,
) -> Alert | None:
    """Once per importer and month (the id has the month), when the month's value reaches
    ``factor`` x the mean of its months with trade in the ``baseline_months`` before; its
    line count is the month's lines. Withdrawn when reported and no longer true. ``None``
    when the alert would carry the signature ``unchanged``, as for
    :func:`new_importer_chpl`."""
    rule = rules.rules.importer_surge
    months: dict[str, dict[str, Any]] = state.get("months", {})
    entry = months.get(month)
    if entry is None:
        return None
    current = entry["v"]
    history = [months[m]["v"] for m in _months_before(month, rule.baseline_months) if m in months]
    history = [v for v in history if v]
    baseline = sum(history) / len(history) if history else 0.0
    holds = (
        bool(history)
        and current >= rule.min_month_usd
        and baseline >= rule.min_baseline_usd
        and current >= rule.factor * baseline
    )
    if not holds and not reported:
        return None
    lines = _first_and_top(entry)
    if unchanged is not None and unchanged == _mark(
        not holds, entry["n"], rule.severity, len(lines), lines[0][1], lines[0][2], []
    ):
        return None
    lead = entry["lead"]
    name = lead["importer_name"] or party_key
    if baseline:
        reason = (
            f"importer {name!r}: {current:,.0f} USD in {month}, {current / baseline:.0f}x its "
            f"mean of {baseline:,.0f} USD over the {len(history)} month(s) with trade before"
        )
    else:
        reason = f"importer {name!r}: {current:,.0f} USD in {month}, no trade before"
    if not holds:
        reason = f"withdrawn: no longer a surge; {reason}"
    return _importer_alert(
        {
            "alert_id": alert_id("group", f"{IMPORTER_SURGE}|{party_key}|{month}"),
            "rule": IMPORTER_SURGE,
            "severity": rule.severity,
            "score": rule.score,
            "reason": reason,
            "lines": _keys(lines),
            "line_count": entry["n"],
            "parties": _lead_parties(lead),
            "subject": month,
            "destination_country": lead["destination_country"],
            "source": lead["source"],
            "rules_version": lead["rules_version"],
            "first_seen": _day(entry["first"][0]),
            "last_seen": _day(entry["last"]),
            "withdrawn": not holds,
        }
    )


def _first_and_top(entry: dict[str, Any]) -> list[LineOrder]:
    """A month's first line and its line of largest value (the one that made it surge)."""
    first, top = entry["first"], entry["top"][1]
    return [first] if top == first else [first, top]


def signature(alert: Alert) -> str:
    """What decides whether a restated alert is a new version: withdrawn or not, lines,
    severity, categories."""
    first = alert.lines[0]
    return _mark(
        alert.withdrawn,
        alert.line_count,
        alert.severity,
        len(alert.lines),
        first.declaration_id,
        first.line_no,
        alert.categories,
    )


def _mark(
    withdrawn: bool,
    line_count: int,
    severity: str,
    lines: int,
    first_id: str,
    first_no: int,
    categories: list[str],
) -> str:
    """:func:`signature` from the values an alert would be built of."""
    return (
        f"{int(withdrawn)}|{line_count}|{severity}|{lines}|"
        f"{first_id}#{first_no}|{','.join(categories)}"
    )


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
        opened = _changed(candidate, {"alert_id": alert_id("group", key)})
        if known is not None:
            known.update(line_keys(candidate))
        return Grouped(opened, new=True, changed=True)
    if known is None:
        known = line_keys(current)
    added = [k for k in candidate.lines if (k.declaration_id, k.line_no) not in known]
    if not added:
        return Grouped(current, new=False, changed=False)
    known.update((k.declaration_id, k.line_no) for k in added)
    merged = _changed(
        current,
        {
            "lines": [*current.lines, *added][:MAX_GROUP_LINES],
            "line_count": current.line_count + len(added),
            "first_seen": min(current.first_seen, candidate.first_seen),
            "last_seen": max(current.last_seen, candidate.last_seen),
            "score": max(current.score, candidate.score),
            "severity": max(current.severity, candidate.severity, key=SEVERITY_RANK.__getitem__),
            "categories": sorted({*current.categories, *candidate.categories}),
        },
    )
    return Grouped(merged, new=False, changed=True)


def _changed(alert: Alert, changes: dict[str, Any]) -> Alert:
    """``alert.model_copy(update=changes)`` for values of the fields' types, in one step."""
    return trusted(Alert, {**alert.__dict__, **changes})


def group_state(alert: Alert) -> dict[str, Any]:
    """What the ``alert_groups`` table keeps for a group."""
    return {"alert": alert.model_dump(mode="json")}


def group_alert(state: dict[str, Any] | None) -> Alert | None:
    return None if state is None else Alert.model_validate(state["alert"])


# --- flows -----------------------------------------------------------------------------


def next_period(label: str, period: str) -> str:
    if period == "month":
        year, month = map(int, label.split("-"))
        return f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"
    if period in ("quarter", "half"):
        year_text, part_text = label.split("-")
        year, part = int(year_text), int(part_text[1:])
        last = 4 if period == "quarter" else 2
        return f"{year + 1}-{part_text[0]}1" if part == last else f"{year}-{part_text[0]}{part + 1}"
    return str(int(label) + 1)


def flow_surge(
    flow_key: str,
    state: dict[str, Any],
    period: str,
    rule: FlowSurgeRule,
    reported: bool = False,
) -> Alert | None:
    """Once per flow and period, when the period's value exceeds the previous period's by
    ``threshold``; its line count is the period's lines. Withdrawn when reported and no
    longer true (the previous period's lines arrived late)."""
    periods: dict[str, dict[str, Any]] = state.get("periods", {})
    entry = periods.get(period)
    if entry is None:
        return None
    current = entry["v"]
    before = previous_period(period, rule.period)
    previous = periods[before]["v"] if before in periods else 0.0
    holds = previous >= rule.min_previous_usd and current >= previous * (1 + rule.threshold)
    if not holds and not reported:
        return None
    category, destination = flow_key.split("|", 1)
    if previous:
        reason = (
            f"{category} to {destination}: {current:,.0f} USD in {period} so far, "
            f"{current / previous - 1:+.0%} on {before} ({previous:,.0f} USD)"
        )
    else:
        reason = f"{category} to {destination}: {current:,.0f} USD in {period}, none in {before}"
    if not holds:
        reason = f"withdrawn: no longer a surge; {reason}"
    return _importer_alert(
        {
            "alert_id": alert_id(FLOW_SURGE, flow_key, period),
            "rule": FLOW_SURGE,
            "severity": rule.severity,
            "score": rule.score,
            "reason": reason,
            "lines": _keys([entry["first"]]),
            "line_count": entry["n"],
            "parties": [],
            "categories": [category],
            "subject": f"{flow_key}|{period}",
            "destination_country": destination,
            "source": entry.get("source"),
            "rules_version": entry.get("rules_version", ""),
            "first_seen": _day(entry["first"][0]),
            "last_seen": _day(entry["last"]),
            "withdrawn": not holds,
        }
    )
