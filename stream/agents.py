"""Thin faust agents: decode, call a pure stage, send, and only then let the event be acked.

``parse``:  ``<prefix>.raw.*`` → ``<prefix>.declarations`` (+ ``<prefix>.deadletter``)
``enrich``: ``<prefix>.declarations`` → ClickHouse, ``<prefix>.enriched``, ``<prefix>.alerts``

Every send is awaited until the broker acknowledged it before the agent moves to the next
event, so an offset is never committed ahead of the records derived from it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
from pydantic import ValidationError

from schemas.dead_letter import DeadLetter
from schemas.declaration import DeclarationBatch, RawRef
from schemas.rule_data import RuleSet, fx_table
from schemas.settings import Settings
from stream.app import Topics
from stream.errors import WarehouseRejected
from stream.screening.store import WatchedScreener
from stream.sink import AsyncWarehouse
from stream.stages.enrich import Enricher
from stream.stages.parse import describe_validation_error, parse_message

log = logging.getLogger(__name__)


def _ref(event: Any) -> RawRef:
    message = event.message
    return RawRef(topic=message.topic, partition=message.partition, offset=message.offset)


def _source_of(topic: str, settings: Settings) -> str:
    return topic.removeprefix(f"{settings.topics.prefix}.raw.")


async def _deliver(sends: list[Any]) -> None:
    """Wait until the broker acknowledged every send."""
    if sends:
        await asyncio.gather(*sends)


def register_agents(
    app: faust.App, topics: Topics, settings: Settings, rules: RuleSet, warehouse: AsyncWarehouse
) -> None:
    watched = WatchedScreener(
        settings.screening.watchlist_dir, rules.screening, settings.screening.threshold
    )
    enricher = Enricher(rules, fx_table(settings.rules.fx_rates), lambda: watched.current)
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
        result = parse_message(event.value, ref, _source_of(ref.topic, settings))
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
        try:
            await warehouse.write(enriched.lines, alerts, token=batch.raw.token())
        except WarehouseRejected as exc:
            reason = f"ClickHouse rejected the batch: {exc}"
            return [await dead_letter(event, "sink", reason, batch.source)]
        sends = [
            await topics.enriched.send(key=event.key, value=enriched.model_dump_json().encode())
        ]
        for alert in alerts:
            sends.append(
                await topics.alerts.send(
                    key=alert.partition_key().encode(), value=alert.model_dump_json().encode()
                )
            )
        return sends

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

    # A new list version is built off the event loop and swapped in between two batches.
    @app.timer(interval=settings.screening.reload_interval_s)  # type: ignore[untyped-decorator]
    async def reload_watchlists() -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, watched.refresh)
        except (OSError, ValueError) as exc:
            log.error("watchlist reload failed; keeping the loaded lists", extra={"error": exc})
