"""Thin faust agents: decode, call a pure stage, send, and only then let the event be acked.

``parse``:  ``<prefix>.raw.*`` → ``<prefix>.declarations`` (+ ``<prefix>.deadletter``)
``enrich``: ``<prefix>.declarations`` → ``<prefix>.enriched``, ``<prefix>.facts`` (per
            party), ``<prefix>.flows`` (per category × destination)
``alerts``: ``<prefix>.facts`` → stateful rules and grouping (tables ``importers``,
            ``alert_groups``) → ``<prefix>.alert-versions`` (every version), ``<prefix>.alerts``
            (new alerts only)
``flows``:  ``<prefix>.flows`` → ``flow_surge`` (table ``flows``) → the same

No agent touches ClickHouse: the sink (``stream/sink``) inserts the enriched lines, alert
versions and dead letters in batches.

Every send is awaited until the broker acknowledged it before the agent moves to the next
event, so an offset is never committed ahead of the records derived from it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import faust
from faust import streams as faust_streams
from pydantic import ValidationError

from ingest.formats.tabular.catalog import MappingCatalog
from schemas.alert import Alert
from schemas.codecs import describe_validation_error
from schemas.dead_letter import DeadLetter
from schemas.declaration import DeclarationBatch, RawRef
from schemas.facts import FactBatch, FlowBatch
from schemas.rule_data import RuleSet, fx_table
from schemas.settings import Settings
from stream.screening.names import NameNormaliser
from stream.screening.store import WatchedScreener
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
from stream.stages.enrich import Enricher
from stream.stages.facts import PartyKeys, fact_batches, flow_batches
from stream.stages.parse import TabularReader, parse_message
from stream.worker.app import Topics

log = logging.getLogger(__name__)


def _ref(event: Any) -> RawRef:
    message = event.message
    return RawRef(topic=message.topic, partition=message.partition, offset=message.offset)


@contextmanager
def _current(event: Any) -> Iterator[None]:
    """Make ``event`` faust's current event while a group taken with ``take_events`` is
    handled one by one: a table write goes to the changelog partition of the current event,
    which faust only sets itself when a stream is iterated event by event."""
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


APPLIED_MEMORY = 2000  # raw messages remembered per party or flow, to drop redeliveries


def remember(state: dict[str, Any], token: str) -> list[str]:
    """The state's applied raw-message tokens with ``token`` added, newest last, bounded."""
    return [*state.get("applied", ()), token][-APPLIED_MEMORY:]


def _source_of(topic: str, settings: Settings) -> str:
    return topic.removeprefix(f"{settings.topics.prefix}.raw.")


async def _deliver(sends: list[Any]) -> None:
    """Wait until the broker acknowledged every send."""
    if sends:
        await asyncio.gather(*sends)


def register_agents(app: faust.App, topics: Topics, settings: Settings, rules: RuleSet) -> None:
    watched = WatchedScreener(
        settings.screening.watchlist_dir, rules.screening, settings.screening.threshold
    )
    enricher = Enricher(rules, fx_table(settings.rules.fx_rates), lambda: watched.current)
    party_names = PartyKeys(NameNormaliser(rules.screening))
    tabular = TabularReader(MappingCatalog(settings.ingest.mappings_dir))
    flow_rule = rules.alerts.rules.flow_surge
    # Behavioural state, changelog-backed: a restarted worker recovers it before consuming.
    partitions = settings.topics.partitions
    importers = app.Table("importers", default=None, partitions=partitions)
    alert_groups = app.Table("alert_groups", default=None, partitions=partitions)
    flows = app.Table("flows", default=None, partitions=partitions)
    take = settings.worker.take_events
    within = settings.worker.take_within_s

    async def dead_letter(event: Any, stage: str, reason: str, source: str = "") -> Any:
        ref = _ref(event)
        letter = DeadLetter(
            source=source,
            stage=stage,
            reason=reason,
            payload=event.value,
            topic=ref.topic,
            partition=ref.partition,
            offset=ref.offset,
        )
        return await send_dead_letter(letter)

    async def send_dead_letter(letter: DeadLetter) -> Any:
        log.warning(
            "dead letter",
            extra={
                "stage": letter.stage,
                "source": letter.source,
                "position": letter.position,
                "reason": letter.reason,
            },
        )
        return await topics.deadletter.send(
            key=letter.source.encode(), value=letter.model_dump_json().encode()
        )

    async def parse_one(event: Any) -> list[Any]:
        ref = _ref(event)
        result = parse_message(event.value, ref, _source_of(ref.topic, settings), tabular)
        sends = [await send_dead_letter(letter) for letter in result.dead_letters]
        if result.lines:
            batch = DeclarationBatch(
                source=result.lines[0].source or "", raw=ref, lines=result.lines
            )
            sends.append(
                await topics.declarations.send(
                    key=result.lines[0].declaration_id.encode(),
                    value=batch.model_dump_json().encode(),
                )
            )
        return sends

    async def enrich_one(event: Any) -> list[Any]:
        try:
            batch = DeclarationBatch.model_validate_json(event.value)
        except ValidationError as exc:
            reason = f"not a declaration batch: {describe_validation_error(exc)}"
            return [await dead_letter(event, "enrich", reason)]
        enriched, alerts = enricher.batch(batch)
        sends = [
            await topics.enriched.send(key=event.key, value=enriched.model_dump_json().encode())
        ]
        for facts in fact_batches(enriched.lines, alerts, batch.raw, party_names):
            sends.append(
                await topics.facts.send(
                    key=facts.party_key.encode(), value=facts.model_dump_json().encode()
                )
            )
        for flow in flow_batches(enriched.lines, batch.raw, flow_rule.period):
            sends.append(
                await topics.flows.send(
                    key=flow.flow_key.encode(), value=flow.model_dump_json().encode()
                )
            )
        return sends

    async def publish_alerts(versions: list[Alert], new: list[Alert]) -> list[Any]:
        """Every version to the sink's topic (the ``alerts`` table is a ReplacingMergeTree
        keeping the latest per alert id, so a replay that groups events differently stays
        correct), only new alerts to the watchers' topic."""
        sends = []
        for alert in versions:
            sends.append(
                await topics.alert_versions.send(
                    key=alert.alert_id.encode(), value=alert.model_dump_json().encode()
                )
            )
        for alert in new:
            sends.append(
                await topics.alerts.send(
                    key=alert.partition_key().encode(), value=alert.model_dump_json().encode()
                )
            )
        return sends

    def behave(batch: FactBatch) -> tuple[list[Alert], list[Alert]]:
        """Run one party's batch through the stateful rules and grouping. State is read
        once and written once per key, so a batch adds one changelog record per key it
        changed, not one per line."""
        versions: dict[str, Alert] = {}
        new: list[Alert] = []
        key = batch.party_key
        window = rules.alerts.grouping.window
        by_line: dict[tuple[str, int], list[Alert]] = {}
        for candidate in batch.candidates:
            first = candidate.lines[0]
            by_line.setdefault((first.declaration_id, first.line_no), []).append(candidate)
        tracks_importer = key.startswith("importer:")
        importer = importers.get(key) if tracks_importer else None
        # Totals are sums: lines delivered again after a rebalance or restart (at least once
        # upstream) must not count twice. The raw message they came from says which.
        token = batch.raw.token()
        if importer is not None and token in importer.get("applied", ()):
            tracks_importer = False
        current: dict[str, Alert | None] = {}
        known: dict[str, set[tuple[str, int]]] = {}
        changed: set[str] = set()
        for fact in sorted(batch.lines, key=lambda f: f.declared_at):
            candidates = list(by_line.get((fact.declaration_id, fact.line_no), ()))
            if tracks_importer and fact.importer_name:
                before = importer
                importer = observe_importer(before, fact)
                for found in (
                    new_importer_chpl(key, before, fact, rules.alerts),
                    importer_surge(key, importer, fact, rules.alerts),
                ):
                    if found is not None:
                        candidates.append(found)
            for candidate in candidates:
                gkey = group_key(candidate, key, fact.declared_at, window)
                if gkey not in current:
                    stored = group_alert(alert_groups.get(gkey))
                    current[gkey] = stored
                    known[gkey] = line_keys(stored) if stored else set()
                grouped = group(current[gkey], gkey, candidate, known[gkey])
                if grouped.changed:
                    current[gkey] = grouped.alert
                    changed.add(gkey)
                versions[grouped.alert.alert_id] = grouped.alert
                if grouped.new:
                    new.append(grouped.alert)
        if tracks_importer and importer is not None:
            importers[key] = {**importer, "applied": remember(importer, token)}
        for gkey in changed:
            alert_groups[gkey] = group_state(current[gkey])  # type: ignore[arg-type]
        return list(versions.values()), new

    async def alerts_group(events: list[Any]) -> list[Any]:
        versions: dict[str, Alert] = {}
        new: list[Alert] = []
        sends = []
        for event in events:
            try:
                batch = FactBatch.model_validate_json(event.value)
            except ValidationError as exc:
                reason = f"not a fact batch: {describe_validation_error(exc)}"
                sends.append(await dead_letter(event, "alerts", reason))
                continue
            with _current(event):
                changed, opened = behave(batch)
            versions.update((a.alert_id, a) for a in changed)
            new.extend(opened)
        return sends + await publish_alerts(list(versions.values()), new)

    async def flows_group(events: list[Any]) -> list[Any]:
        raised: list[Alert] = []
        sends = []
        for event in events:
            try:
                batch = FlowBatch.model_validate_json(event.value)
            except ValidationError as exc:
                reason = f"not a flow batch: {describe_validation_error(exc)}"
                sends.append(await dead_letter(event, "flows", reason))
                continue
            with _current(event):
                raised.extend(surge(batch))
        return sends + await publish_alerts(raised, raised)

    def surge(batch: FlowBatch) -> list[Alert]:
        state = dict(flows.get(batch.flow_key) or {"totals": {}, "fired": []})
        token = batch.raw.token()
        if token in state.get("applied", ()):  # delivered again: already counted
            return []
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
                flow_rule,
                batch.source,
                batch.rules_version,
            )
            if alert is not None:
                fired.append(fact.period)
                raised.append(alert)
        flows[batch.flow_key] = {
            "totals": totals,
            "fired": fired,
            "applied": remember(state, token),
        }
        return raised

    # take_events hands over up to `take` events and acks them only after the body ran, so
    # the wait for the broker's acknowledgements is paid once per group, not once per event.
    @app.agent(topics.raw, name="parse")
    async def parse(stream: Any) -> None:
        async for events in stream.take_events(take, within=within):
            sends = [send for event in events for send in await parse_one(event)]
            await _deliver(sends)

    @app.agent(topics.declarations, name="enrich")
    async def enrich(stream: Any) -> None:
        async for events in stream.take_events(take, within=within):
            sends = [send for event in events for send in await enrich_one(event)]
            await _deliver(sends)

    # The tables' changelog records are sent in the background; flushing before the events
    # are acked keeps the state on the broker before the input offsets can be committed, so
    # a worker stopped right after a batch does not come back without that batch's state.
    @app.agent(topics.facts, name="alerts")
    async def alerts(stream: Any) -> None:
        async for events in stream.take_events(take, within=within):
            await _deliver(await alerts_group(events))
            await app.producer.flush()

    @app.agent(topics.flows, name="flows")
    async def flow_alerts(stream: Any) -> None:
        async for events in stream.take_events(take, within=within):
            await _deliver(await flows_group(events))
            await app.producer.flush()

    # A new list version is built off the event loop and swapped in between two batches.
    @app.timer(interval=settings.screening.reload_interval_s)  # type: ignore[untyped-decorator]
    async def reload_watchlists() -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, watched.refresh)
        except (OSError, ValueError) as exc:
            log.error("watchlist reload failed; keeping the loaded lists", extra={"error": exc})
