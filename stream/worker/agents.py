"""Thin faust agents: decode, call a pure stage, send, and only then let the event be acked.

``parse``:  ``<prefix>.raw.*`` → parse, then enrich in the same step →
            ``<prefix>.enriched``, ``<prefix>.facts`` (parties, one message per target
            partition), ``<prefix>.flows`` (category × destination, the same way), and
            ``<prefix>.declarations`` only with ``worker.publish_declarations``
            (+ ``<prefix>.deadletter``)
``enrich``: ``<prefix>.declarations`` (batches another producer or a replay wrote there)
            → the same as above
``alerts``: ``<prefix>.facts`` → stateful rules and grouping (tables ``importers``,
            ``alert_groups``) → ``<prefix>.alert-versions`` (every version, packed per
            partition), ``<prefix>.alerts`` (opened and withdrawn alerts, one each)
``flows``:  ``<prefix>.flows`` → ``flow_surge`` (table ``flows``) → the same

The stateful rules' transitions are pure (``stream/stages/stateful.py``): the agents read
the tables through them and apply the writes they return. No agent touches ClickHouse: the
sink (``stream/sink``) inserts the enriched lines, alert versions and dead letters in batches.

Every send is awaited until the broker acknowledged it before the agent moves to the next
event, so an offset is never committed ahead of the records derived from it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import faust
from kafka import TopicPartition

from ingest.broker.deadletters import Enqueue, enqueue_dead_letters
from ingest.broker.reader import log_end_offsets, new_consumer
from ingest.formats.tabular.catalog import MappingCatalog
from schemas.alert import Alert
from schemas.codecs import (
    ALERT,
    DECLARATION_BATCH,
    ENRICHED_BATCH,
    FACT_BATCH,
    FLOW_BATCH,
    Codec,
    Model,
    alert_batch_json,
)
from schemas.dead_letter import DeadLetter
from schemas.declaration import DeclarationBatch, RawRef
from schemas.enriched import (
    BATCH_HEADER,
    WRITER_HEADER,
    EnrichedBatch,
    batch_header,
    writer_mark,
)
from schemas.facts import partition_of
from schemas.rule_data import RuleSet, fx_table
from schemas.settings import Settings
from stream.metrics.definitions import (
    observe_alert,
    observe_dead_letter,
    observe_stage,
    observe_stage_seconds,
    observe_watchlist,
)
from stream.screening.names import NameNormaliser
from stream.screening.store import WatchedScreener
from stream.stages.enrich import Enricher, party_book
from stream.stages.facts import PartyKeys, fact_batches, flow_batches
from stream.stages.guard import Failed, attempt, line_letter, message_letter
from stream.stages.parse import TabularReader, parse_message
from stream.stages.stateful import flow_transition, party_transition
from stream.stages.suppress import mark
from stream.worker.app import Topics
from stream.worker.parties import PartyRegistryReader, RefreshClock
from stream.worker.patches import as_current_event, consumer_views
from stream.worker.stalls import StallWatch, candidate
from stream.worker.suppressions import SuppressionReader

log = logging.getLogger(__name__)

Packed = tuple[int, bytes]
EnrichedMessages = tuple[list[DeadLetter], tuple[bytes, bytes] | None, list[Packed], list[Packed]]
"""What one declarations message becomes: letters for its rejected lines, the enriched
batch and its ``BATCH_HEADER`` (``None`` when no line was kept), the facts and the flows
messages (partition, value), one per target partition."""


@dataclass(frozen=True)
class Stages:
    """The stage objects the agents call, built once per worker."""

    watched: WatchedScreener
    enricher: Enricher
    party_names: PartyKeys
    tabular: TabularReader
    suppressions: SuppressionReader | None = None  # None: nothing is suppressed
    parties: PartyRegistryReader | None = None  # None: the registry stays this worker's


def build_stages(settings: Settings, rules: RuleSet) -> Stages:
    watched = WatchedScreener(
        settings.screening.watchlist_dir, rules.screening, settings.screening.threshold
    )
    book = party_book(rules)
    return Stages(
        watched=watched,
        enricher=Enricher(
            rules, fx_table(settings.rules.fx_rates), lambda: watched.current, parties=book
        ),
        party_names=PartyKeys(NameNormaliser(rules.screening)),
        tabular=TabularReader(MappingCatalog(settings.ingest.mappings_dir)),
        suppressions=SuppressionReader(settings),
        parties=PartyRegistryReader(settings, book),
    )


@dataclass(frozen=True)
class Tables:
    """Behavioural state, changelog-backed: a restarted worker recovers it before consuming."""

    importers: Any
    alert_groups: Any
    flows: Any


def create_tables(app: faust.App, settings: Settings) -> Tables:
    partitions = settings.topics.partitions
    return Tables(
        importers=app.Table("importers", default=None, partitions=partitions),
        alert_groups=app.Table("alert_groups", default=None, partitions=partitions),
        flows=app.Table("flows", default=None, partitions=partitions),
    )


def _ref(event: Any) -> RawRef:
    message = event.message
    return RawRef(topic=message.topic, partition=message.partition, offset=message.offset)


def sender(topic: Any) -> Enqueue:
    """``enqueue(key, value)`` over a faust topic, for the dead-letter path."""

    async def enqueue(key: bytes, value: bytes) -> Any:
        return await topic.send(key=key, value=value)

    return enqueue


async def _deliver(sends: list[Any]) -> None:
    """Wait until the broker acknowledged every send."""
    if sends:
        await asyncio.gather(*sends)


Handler = Callable[[list[Any]], Awaitable[list[Any]]]


def hold(events: list[Any]) -> None:
    """Keep a group that was not handled from being acked: ``take_events`` acks every event
    of the group in its ``finally``, even when the body raised, and a message with one more
    reference than acks stays unacked, so its offset is never committed."""
    for event in events:
        event.message.incref()


async def handle_group(events: list[Any], handler: Handler, app: Any, flush: bool) -> None:
    """Handle one group and wait for the broker's acknowledgements. Record-level failures
    became dead letters inside ``handler``; what still raises here is infrastructure (a send
    the broker did not acknowledge, a lost producer): the group is held unacked and the
    worker is stopped, so a restart reads it again."""
    try:
        await _deliver(await handler(events))
        if flush:
            await app.producer.flush()
    except Exception as exc:
        hold(events)
        log.critical(
            "a group could not be handled; stopping the worker without acking it",
            extra={"error": f"{type(exc).__name__}: {exc}", "events": len(events)},
        )
        await app.crash(exc)
        raise
    except BaseException:  # cancelled (stop, rebalance): not handled, so not acked either
        hold(events)
        raise


@dataclass(frozen=True)
class Handlers:
    """What each agent does with one group of events; every method returns the sends still
    to be acknowledged."""

    topics: Topics
    stages: Stages
    tables: Tables
    rules: RuleSet
    settings: Settings

    async def _dead_letters(self, letters: list[DeadLetter]) -> list[Any]:
        for letter in letters:
            observe_dead_letter(letter.stage, letter.reason)
        return await enqueue_dead_letters(sender(self.topics.deadletter), letters)

    async def _refused(self, event: Any, stage: str, reason: str, source: str = "") -> list[Any]:
        """Dead-letter a whole consumed message, byte for byte."""
        letter = message_letter(event.value, _ref(event), stage, reason, source)
        return await self._dead_letters([letter])

    async def _decoded(
        self, events: list[Any], codec: Codec[Model], stage: str, sends: list[Any]
    ) -> list[tuple[Any, Model]]:
        """Each event with its decoded record; an event that does not decode becomes a dead
        letter (its send joins ``sends``) and is left out."""
        decoded = []
        for event in events:
            record = attempt(partial(codec.decode, event.value))
            if isinstance(record, Failed):
                sends.extend(await self._refused(event, stage, record.reason))
            else:
                decoded.append((event, record))
        return decoded

    async def parse(self, events: list[Any]) -> list[Any]:
        """Parse each raw message and enrich its lines in the same step: the lines are
        validated once, not encoded for ``<prefix>.declarations`` and decoded again (that
        topic is written only with ``worker.publish_declarations``)."""
        sends = []
        raw_prefix = f"{self.settings.topics.prefix}.raw."
        for event in events:
            ref = _ref(event)
            source = ref.topic.removeprefix(raw_prefix)
            result = parse_message(event.value, ref, source, self.stages.tabular)
            kept = len(result.lines)
            observe_stage("parse", kept + len(result.dead_letters), kept)
            sends.extend(await self._dead_letters(result.dead_letters))
            if result.lines:
                first = result.lines[0]
                batch = DeclarationBatch(source=first.source or "", raw=ref, lines=result.lines)
                key = first.declaration_id.encode()
                if self.settings.worker.publish_declarations:
                    value = DECLARATION_BATCH.encode(batch)
                    sends.append(await self.topics.declarations.send(key=key, value=value))
                sends.extend(await self._enrich_batch(event, key, batch))
        return sends

    async def enrich(self, events: list[Any]) -> list[Any]:
        """Batches published on ``<prefix>.declarations`` by another producer (or replayed)."""
        sends: list[Any] = []
        for event, batch in await self._decoded(events, DECLARATION_BATCH, "enrich", sends):
            sends.extend(await self._enrich_batch(event, event.key, batch))
        return sends

    async def _enrich_batch(self, event: Any, key: bytes, batch: DeclarationBatch) -> list[Any]:
        """Every line under the guard, then the messages derived from the kept lines; a
        failure past the lines (facts, flows, encoding) refuses the whole message."""
        period = self.rules.alerts.rules.flow_surge.period
        started = time.perf_counter()
        out = attempt(partial(self._enriched_messages, batch, period))
        observe_stage_seconds("enrich", time.perf_counter() - started, len(batch.lines))
        if isinstance(out, Failed):
            return await self._refused(event, "enrich", out.reason, batch.source)
        letters, enriched, facts, flows = out
        observe_stage("enrich", len(batch.lines), len(batch.lines) - len(letters))
        sends = await self._dead_letters(letters)
        if enriched is not None:
            value, outline = enriched
            marked = [(WRITER_HEADER, writer_mark()), (BATCH_HEADER, outline)]
            sends.append(await self.topics.enriched.send(key=key, value=value, headers=marked))
        for target, value in facts:
            sends.append(await self.topics.facts.send(key=key, value=value, partition=target))
        for target, value in flows:
            sends.append(await self.topics.flows.send(key=key, value=value, partition=target))
        return sends

    def _enriched_messages(self, batch: DeclarationBatch, period: str) -> EnrichedMessages:
        """The rejected lines' letters and the encoded enriched, facts and flows messages."""
        result = self.stages.enricher.lines(batch.lines, batch.raw)
        letters = [line_letter(line, batch.raw, "enrich", why) for line, why in result.rejected]
        if not result.lines:
            return letters, None, [], []
        enriched = EnrichedBatch(source=batch.source, raw=batch.raw, lines=result.lines)
        names, partitions = self.stages.party_names, self.settings.topics.partitions
        facts = [
            (p, FACT_BATCH.encode(f))
            for p, f in fact_batches(result.lines, result.alerts, batch.raw, names, partitions)
        ]
        flows = [
            (p, FLOW_BATCH.encode(f))
            for p, f in flow_batches(result.lines, batch.raw, period, partitions)
        ]
        return letters, (ENRICHED_BATCH.encode(enriched), batch_header(enriched)), facts, flows

    async def alerts(self, events: list[Any]) -> list[Any]:
        versions: dict[str, Alert] = {}
        new: list[Alert] = []
        sends: list[Any] = []
        importers = Overlay(self.tables.importers)
        alert_groups = Overlay(self.tables.alert_groups)
        for event, batch in await self._decoded(events, FACT_BATCH, "alerts", sends):
            token = batch.raw.token()
            lines = sum(len(party.lines) for party in batch.parties)
            observe_stage("alerts", lines, lines)
            for party in batch.parties:
                step = attempt(
                    partial(
                        party_transition,
                        party,
                        token,
                        self.rules.alerts,
                        importers.get,
                        alert_groups.get,
                    )
                )
                if isinstance(step, Failed):  # nothing written: the party's state stays as it was
                    why = f"party {party.party_key}: {step.reason}"
                    sends.extend(await self._refused(event, "alerts", why))
                    continue
                importers.write(event, step.importers)
                alert_groups.write(event, step.alert_groups)
                versions.update((a.alert_id, a) for a in step.versions)
                new.extend(step.new)
        importers.flush()
        alert_groups.flush()
        return sends + await self._publish(list(versions.values()), new)

    async def flows(self, events: list[Any]) -> list[Any]:
        versions: dict[str, Alert] = {}
        new: list[Alert] = []
        sends: list[Any] = []
        rule, flows = self.rules.alerts.rules.flow_surge, Overlay(self.tables.flows)
        for event, batch in await self._decoded(events, FLOW_BATCH, "flows", sends):
            token, source = batch.raw.token(), batch.source
            for flow in batch.flows:
                step = attempt(
                    partial(
                        flow_transition, flow, token, source, batch.rules_version, rule, flows.get
                    )
                )
                if isinstance(step, Failed):  # nothing written: the flow's state stays as it was
                    why = f"flow {flow.flow_key}: {step.reason}"
                    sends.extend(await self._refused(event, "flows", why, source or ""))
                    continue
                flows.write(event, step.flows)
                versions.update((a.alert_id, a) for a in step.versions)
                new.extend(step.new)
        flows.flush()
        return sends + await self._publish(list(versions.values()), new)

    async def _publish(self, versions: list[Alert], new: list[Alert]) -> list[Any]:
        """Every version to the sink's topic, packed per target partition (the ``alerts``
        table is a ReplacingMergeTree keeping the latest per alert id, so a replay that
        groups events differently stays correct); to the watchers' topic, one message each,
        the alerts opened and withdrawn, unless a suppression approved in the ops console
        covers them (then they are stored, marked, not published)."""
        book = self.stages.suppressions.current() if self.stages.suppressions else {}
        if book:  # none approved: nothing to mark
            versions = [mark(a, book) for a in versions]
            new = [mark(a, book) for a in new]
        new = [a for a in new if a.suppressed_by is None]
        # an alert opened (or withdrawn) here is mostly the same object as its latest
        # version: each object is encoded once (by id: every one stays alive until return)
        encoded: dict[int, bytes] = {}

        def json_of(alert: Alert) -> bytes:
            value = encoded.get(id(alert))
            if value is None:
                value = encoded[id(alert)] = ALERT.encode(alert)
            return value

        sends = []
        packed: dict[int, list[Alert]] = {}
        for alert in versions:
            target = partition_of(alert.alert_id, self.settings.topics.partitions)
            packed.setdefault(target, []).append(alert)
        for target, alerts in sorted(packed.items()):
            sends.append(
                await self.topics.alert_versions.send(
                    key=alerts[0].alert_id.encode(),
                    value=alert_batch_json([json_of(a) for a in alerts]),
                    partition=target,
                )
            )
        counted: Counter[tuple[str, str]] = Counter()
        for alert in new:
            counted[alert.rule, "withdrawn" if alert.withdrawn else alert.severity] += 1
            sends.append(
                await self.topics.alerts.send(
                    key=alert.partition_key().encode(), value=json_of(alert)
                )
            )
        for (rule, severity), count in counted.items():
            observe_alert(rule, severity, count)
        return sends


class Overlay:
    """A faust table's writes held for one group of events and written once per key at the
    end, under the event that last wrote the key (its partition is the changelog's): a party
    in every message of a group costs one changelog record, not one per message. Reads see
    the held writes first."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.held: dict[str, tuple[Any, Any]] = {}

    def get(self, key: str) -> Any:
        held = self.held.get(key)
        return held[1] if held is not None else self.table.get(key)

    def write(self, event: Any, writes: dict[str, Any]) -> None:
        for key, state in writes.items():
            self.held[key] = (event, state)

    def flush(self) -> None:
        for key, (event, state) in self.held.items():
            with as_current_event(event):
                self.table[key] = state
        self.held.clear()


def register_agents(app: faust.App, topics: Topics, settings: Settings, rules: RuleSet) -> None:
    stages = build_stages(settings, rules)
    loaded = stages.watched.current
    observe_watchlist(len(loaded.index) if loaded is not None else 0)
    handle = Handlers(topics, stages, create_tables(app, settings), rules, settings)
    take = settings.worker.take_events
    within = settings.worker.take_within_s

    async def run(events: list[Any], handler: Handler, flush: bool = False) -> None:
        await handle_group(events, handler, app, flush)

    # take_events hands over up to `take` events and acks them only after the body ran, so
    # the wait for the broker's acknowledgements is paid once per group, not once per event.
    @app.agent(topics.raw, name="parse")
    async def parse(stream: Any) -> None:
        async for events in stream.take_events(take, within=within):
            await run(events, handle.parse)

    @app.agent(topics.declarations, name="enrich")
    async def enrich(stream: Any) -> None:
        async for events in stream.take_events(take, within=within):
            await run(events, handle.enrich)

    # The tables' changelog records are sent in the background; flushing before the events
    # are acked keeps the state on the broker before the input offsets can be committed, so
    # a worker stopped right after a batch does not come back without that batch's state.
    @app.agent(topics.facts, name="alerts")
    async def alerts(stream: Any) -> None:
        async for events in stream.take_events(take, within=within):
            await run(events, handle.alerts, flush=True)

    @app.agent(topics.flows, name="flows")
    async def flow_alerts(stream: Any) -> None:
        async for events in stream.take_events(take, within=within):
            await run(events, handle.flows, flush=True)

    # A new list version is built off the event loop and swapped in between two batches.
    @app.timer(interval=settings.screening.reload_interval_s)  # type: ignore[untyped-decorator]
    async def reload_watchlists() -> None:
        try:
            rebuilt = await asyncio.get_running_loop().run_in_executor(None, stages.watched.refresh)
            if rebuilt:
                current = stages.watched.current
                observe_watchlist(len(current.index) if current is not None else 0)
        except (OSError, ValueError) as exc:
            log.error("watchlist reload failed; keeping the loaded lists", extra={"error": exc})

    # Suppressions approved in the ops console: read once before consuming (a restarted
    # worker does not publish what is suppressed), then on a timer off the loop.
    suppressions = stages.suppressions
    assert suppressions is not None
    try:
        suppressions.refresh()
    except Exception as exc:
        log.error("suppressions not read at start", extra={"error": exc})

    @app.timer(interval=settings.screening.reload_interval_s)  # type: ignore[untyped-decorator]
    async def reload_suppressions() -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, suppressions.refresh)
        except Exception as exc:  # the broker may be away: keep the known suppressions
            log.error("suppressions not read; keeping the known ones", extra={"error": exc})

    # The party registry: read whole before consuming (a restarted worker resolves against
    # what every worker registered), then on a timer off the loop, which also publishes what
    # this worker registered meanwhile.
    parties = stages.parties
    assert parties is not None
    try:
        parties.refresh()
    except Exception as exc:
        log.error("party registry not read at start", extra={"error": exc})

    clock = RefreshClock(
        settings.worker.party_refresh_busy_s, settings.worker.party_refresh_s, time.monotonic()
    )

    @app.timer(interval=clock.busy_s)  # type: ignore[untyped-decorator]
    async def refresh_parties() -> None:
        if not clock.due(parties.has_pending(), time.monotonic()):
            return
        try:
            await asyncio.get_running_loop().run_in_executor(None, parties.refresh)
        except Exception as exc:  # the broker may be away: keep the registry, publish later
            log.error("party registry not refreshed; trying again", extra={"error": exc})

    register_stall_watch(app, settings)


def _log_ends(settings: Settings, partitions: list[Any]) -> dict[Any, int]:
    """True log end of each partition (kafka-python; see ``ingest/broker/reader.py``)."""
    consumer = new_consumer(settings)
    try:
        probes = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        ends = log_end_offsets(consumer, probes)
        by_name = {(tp.topic, tp.partition): end for tp, end in ends.items()}
        return {tp: by_name[tp.topic, tp.partition] for tp in partitions}
    finally:
        consumer.close()


def register_stall_watch(app: faust.App, settings: Settings) -> None:
    """Read a partition again from its committed offset when its commits stopped although
    nothing of it is held (``stream/worker/stalls.py``)."""
    watch = StallWatch(settings.worker.commit_stall_s)

    @app.timer(interval=max(settings.worker.commit_stall_s / 4, 1.0))  # type: ignore[untyped-decorator]
    async def watch_commits() -> None:
        if getattr(app, "rebalancing", False) or getattr(app, "in_recovery", False):
            watch.since.clear()
            return
        try:
            views = consumer_views(app)
            maybe = [tp for tp, view in views.items() if candidate(view)]
            loop = asyncio.get_running_loop()
            ends = await loop.run_in_executor(None, _log_ends, settings, maybe) if maybe else {}
            for tp, offset in watch.observe(time.monotonic(), views, ends):
                log.warning(
                    "commits stalled: reading the partition again from its committed offset",
                    extra={"topic": tp.topic, "partition": tp.partition, "offset": offset,
                           "log_end": ends.get(tp), "stalled_s": settings.worker.commit_stall_s},
                )  # fmt: skip
                await app.consumer.seek(tp, offset)
        except Exception as exc:  # the broker may be away: look again next round
            log.error("stalled-commit watch failed; trying again", extra={"error": exc})
