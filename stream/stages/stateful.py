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
from schemas.facts import FactBatch, FlowBatch
from schemas.rule_data import AlertRules, FlowSurgeRule
from stream.stages.behaviour import (
    flow_surge,
    group,
    group_alert,
    group_key,
    group_state,
    importer_surge,
    line_keys,
    new_importer_chpl,
    observe_importer,
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
    """The latest version of every alert the batch opened or added a line to."""
    new: list[Alert]
    """The alerts the batch opened."""
    importers: dict[str, State]
    """Writes to the ``importers`` table (key → new state)."""
    alert_groups: dict[str, State]
    """Writes to the ``alert_groups`` table (group key → new state)."""


@dataclass(frozen=True)
class FlowTransition:
    alerts: list[Alert]
    """``flow_surge`` alerts raised; each is new and its own only version."""
    flows: dict[str, State]
    """Writes to the ``flows`` table (flow key → new state)."""


def party_transition(
    batch: FactBatch, rules: AlertRules, importers: Read, alert_groups: Read
) -> PartyTransition:
    """Run one party's batch through the stateful rules and grouping. Each key is read at
    most once and written at most once, so a batch adds one changelog record per key it
    changed, not one per line."""
    versions: dict[str, Alert] = {}
    new: list[Alert] = []
    key = batch.party_key
    window = rules.grouping.window
    by_line: dict[tuple[str, int], list[Alert]] = {}
    for candidate in batch.candidates:
        first = candidate.lines[0]
        by_line.setdefault((first.declaration_id, first.line_no), []).append(candidate)
    tracks_importer = key.startswith("importer:")
    saved = importers(key) if tracks_importer else None
    importer = saved
    token = batch.raw.token()
    if saved is not None and token in saved.get("applied", ()):
        tracks_importer = False  # delivered again: its values are in the totals already
    current: dict[str, Alert | None] = {}
    known: dict[str, set[tuple[str, int]]] = {}
    changed: dict[str, Alert] = {}
    for fact in sorted(batch.lines, key=lambda f: f.declared_at):
        candidates = list(by_line.get((fact.declaration_id, fact.line_no), ()))
        if tracks_importer and fact.importer_name:
            before = importer
            importer = observe_importer(before, fact)
            for found in (
                new_importer_chpl(key, before, fact, rules),
                importer_surge(key, importer, fact, rules),
            ):
                if found is not None:
                    candidates.append(found)
        for candidate in candidates:
            gkey = group_key(candidate, key, fact.declared_at, window)
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
    if tracks_importer and importer is not None:
        # observe_importer's state has no "applied": remember from the stored state
        importer_writes[key] = {**importer, "applied": remember(saved or {}, token)}
    return PartyTransition(
        versions=list(versions.values()),
        new=new,
        importers=importer_writes,
        alert_groups={gkey: group_state(alert) for gkey, alert in changed.items()},
    )


def flow_transition(batch: FlowBatch, rule: FlowSurgeRule, flows: Read) -> FlowTransition:
    """Add one flow batch's values to the flow's period totals; ``flow_surge`` fires at most
    once per flow and period (the state's ``fired``)."""
    state = dict(flows(batch.flow_key) or {"totals": {}, "fired": []})
    token = batch.raw.token()
    if token in state.get("applied", ()):  # delivered again: already counted
        return FlowTransition(alerts=[], flows={})
    totals = dict(state["totals"])
    fired = list(state["fired"])
    raised = []
    for fact in batch.facts:
        totals[fact.period] = totals.get(fact.period, 0.0) + fact.value_usd
        alert = flow_surge(
            batch.flow_key,
            {"totals": totals, "fired": fired},
            fact.period,
            fact.first_line,
            rule,
            batch.source,
            batch.rules_version,
        )
        if alert is not None:
            fired.append(fact.period)
            raised.append(alert)
    written = {"totals": totals, "fired": fired, "applied": remember(state, token)}
    return FlowTransition(alerts=raised, flows={batch.flow_key: written})
