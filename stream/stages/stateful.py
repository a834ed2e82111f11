"""The stateful rules' transitions: one batch and the state it reads → alerts and state writes.

The ``alerts`` and ``flows`` agents keep the state in faust tables; these functions only
read it through a getter (``table.get``, or ``dict.get`` in tests) and return what to write
back, so the agent applies each write once. The rules themselves are in ``behaviour.py``.

Every input is delivered at least once: a raw message's lines may come again after a
rebalance or a restart. Totals are sums, so each state remembers the raw messages it has
counted (``applied``, :func:`remember`) and a batch from one of them changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.alert import Alert
from schemas.facts import FlowFacts, PartyFacts
from schemas.rule_data import AlertRules, FlowSurgeRule
from stream.stages.behaviour import (
    NEW_IMPORTER_CHPL,
    flow_surge,
    group,
    group_alert,
    group_key,
    group_state,
    importer_surge,
    line_keys,
    month_of,
    new_importer_chpl,
    next_period,
    observe_importer,
    signature,
    surge_months,
)

State = dict[str, Any]
Read = Callable[[str], State | None]
"""The stored state of a key, ``None`` when it has none."""

APPLIED_MEMORY = 2000  # raw messages remembered per party or flow, to drop redeliveries


def remember(state: State, token: str) -> list[str]:
    """The state's applied raw-message tokens with ``token`` added, newest last, bounded."""
    return [*state.get("applied", ()), token][-APPLIED_MEMORY:]


@dataclass(frozen=True)
class PartyTransition:
    versions: list[Alert]
    """The latest version of every alert the batch opened, changed or withdrew."""
    new: list[Alert]
    """What watchers hear of: alerts the batch opened (or opened again), and withdrawals."""
    importers: dict[str, State]
    """Writes to the ``importers`` table (key → new state)."""
    alert_groups: dict[str, State]
    """Writes to the ``alert_groups`` table (group key → new state)."""


@dataclass(frozen=True)
class FlowTransition:
    versions: list[Alert]
    """``flow_surge`` alerts opened, changed or withdrawn."""
    new: list[Alert]
    """Opened (or opened again) and withdrawn ones, for watchers."""
    flows: dict[str, State]
    """Writes to the ``flows`` table (flow key → new state)."""


@dataclass
class _Restated:
    versions: list[Alert]
    new: list[Alert]
    open: dict[str, str]


def _restate(found: dict[str, Alert | None], open_before: dict[str, str]) -> _Restated:
    """Compare restated alerts (name → alert, ``None`` when it neither holds nor was
    reported) with what was reported: a changed signature is a version; an alert not reported
    before, or reported withdrawn, is news; a withdrawal is news too."""
    versions, new = [], []
    open_now = dict(open_before)
    for name, alert in found.items():
        before = open_before.get(name)
        if alert is None:
            continue
        mark = signature(alert)
        if mark == before:
            continue
        versions.append(alert)
        if alert.withdrawn:
            open_now.pop(name, None)
            new.append(alert)
        else:
            open_now[name] = mark
            if before is None:
                new.append(alert)
    return _Restated(versions, new, open_now)


def party_transition(
    party: PartyFacts, token: str, rules: AlertRules, importers: Read, alert_groups: Read
) -> PartyTransition:
    """Run one party's lines of one raw batch (``token``) through the stateful rules and the
    grouping. Each key is read at most once and written at most once. The outcome depends on
    which lines were seen, not on the order they came in: candidates are grouped by a union,
    and the importer's rules are restated from its state (see ``behaviour.py``)."""
    versions: dict[str, Alert] = {}
    new: list[Alert] = []
    key = party.party_key
    window = rules.grouping.window
    dates = (
        {(f.declaration_id, f.line_no): f.declared_at for f in party.lines}
        if party.candidates
        else {}
    )
    current: dict[str, Alert | None] = {}
    known: dict[str, set[tuple[str, int]]] = {}
    changed: dict[str, Alert] = {}
    candidates = sorted(
        party.candidates,
        key=lambda c: (c.lines[0].declaration_id, c.lines[0].line_no, c.rule, c.alert_id),
    )
    for candidate in candidates:
        first = candidate.lines[0]
        declared_at = dates.get((first.declaration_id, first.line_no))
        if declared_at is None:  # a candidate always comes with its line
            raise ValueError(f"candidate {candidate.alert_id} has no line in its batch")
        gkey = group_key(candidate, key, declared_at, window)
        if gkey not in current:
            stored = group_alert(alert_groups(gkey))
            current[gkey] = stored
            known[gkey] = line_keys(stored) if stored else set()
        grouped = group(current[gkey], gkey, candidate, known[gkey])
        if grouped.changed:
            current[gkey] = changed[gkey] = grouped.alert
        versions[grouped.alert.alert_id] = grouped.alert
        if grouped.new:
            new.append(grouped.alert)
    importer_writes = {}
    saved = importers(key) if key.startswith("importer:") else None
    tracks = key.startswith("importer:") and any(f.importer_name for f in party.lines)
    if tracks and not (saved is not None and token in saved.get("applied", ())):
        state = observe_importer(saved, [f for f in party.lines if f.importer_name], rules)
        reported: dict[str, str] = state.get("open", {})
        # an alert whose signature is the one reported is not built (None: no new version)
        found: dict[str, Alert | None] = {
            NEW_IMPORTER_CHPL: new_importer_chpl(
                key, state, rules, NEW_IMPORTER_CHPL in reported, reported.get(NEW_IMPORTER_CHPL)
            )
        }
        touched = {month_of(f.declared_at) for f in party.lines}
        for month in surge_months(state, touched, rules):
            name = f"importer_surge|{month}"
            found[name] = importer_surge(
                key, state, month, rules, name in reported, reported.get(name)
            )
        restated = _restate(found, reported)
        for alert in restated.versions:
            versions[alert.alert_id] = alert
        new.extend(restated.new)
        state["open"] = restated.open
        state["applied"] = remember(saved or {}, token)
        importer_writes[key] = state
    return PartyTransition(
        versions=list(versions.values()),
        new=new,
        importers=importer_writes,
        alert_groups={gkey: group_state(alert) for gkey, alert in changed.items()},
    )


def flow_transition(
    flow: FlowFacts,
    token: str,
    source: str | None,
    rules_version: str,
    rule: FlowSurgeRule,
    flows: Read,
) -> FlowTransition:
    """Add one flow's values of one raw batch to its period totals and restate
    ``flow_surge`` for the periods they touched and the periods after them."""
    saved = flows(flow.flow_key) or {}
    if token in saved.get("applied", ()):  # delivered again: already counted
        return FlowTransition(versions=[], new=[], flows={})
    periods = {p: dict(e) for p, e in saved.get("periods", {}).items()}
    touched: set[str] = set()
    for fact in flow.facts:
        order = [fact.first_seen.isoformat(), *fact.first_line]
        entry = periods.setdefault(
            fact.period,
            {"v": 0.0, "n": 0, "first": order, "last": fact.last_seen.isoformat()},
        )
        entry["v"] += fact.value_usd
        entry["n"] += fact.lines
        entry["last"] = max(entry["last"], fact.last_seen.isoformat())
        if (order[0], order[1], order[2]) < tuple(entry["first"]):
            entry["first"] = order
        entry.setdefault("source", source)
        entry.setdefault("rules_version", rules_version)
        touched.update((fact.period, next_period(fact.period, rule.period)))
    state = {"periods": periods}
    reported: dict[str, str] = saved.get("open", {})
    found = {
        period: flow_surge(flow.flow_key, state, period, rule, period in reported)
        for period in sorted(touched)
    }
    restated = _restate(found, reported)
    written = {"periods": periods, "open": restated.open, "applied": remember(saved, token)}
    return FlowTransition(
        versions=restated.versions, new=restated.new, flows={flow.flow_key: written}
    )
