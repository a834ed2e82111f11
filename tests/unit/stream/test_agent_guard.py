"""The agents' handlers under the guard, with topics and tables in memory: a record-level
failure is one dead letter and the group goes on; an unacknowledged send stops the worker
and leaves the group unacked."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from faust.types import TP
from faust.types.tuples import Message

from ingest.formats.tabular.catalog import MappingCatalog
from schemas.codecs import DEAD_LETTER, DECLARATION_BATCH, ENRICHED_BATCH, FACT_BATCH
from schemas.declaration import Declaration, DeclarationBatch, RawRef
from schemas.facts import FactBatch, PartyFacts
from schemas.rule_data import load_rules
from schemas.settings import Settings
from stream.screening.names import NameNormaliser
from stream.stages.enrich import Enricher
from stream.stages.facts import PartyKeys
from stream.stages.parse import TabularReader
from stream.worker.agents import Handlers, Stages, Tables, handle_group
from stream.worker.app import Topics
from tests.unit.stream.line_facts import fact

RULES = load_rules()
REF = RawRef(topic="t.raw.jsonl", partition=0, offset=3)


@dataclass
class Topic:
    sent: list[tuple[bytes, bytes]] = field(default_factory=list)
    fail: bool = False

    async def send(
        self, key: bytes, value: bytes, partition: int | None = None, headers: object = None
    ) -> asyncio.Future[None]:
        self.sent.append((key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail:
            done.set_exception(ConnectionError("no acknowledgement"))
        else:
            done.set_result(None)
        return done


def delivered() -> Message:
    """A message as faust's conductor hands it to one agent: one reference to ack."""
    message = Message("t.in", 0, 5, 0.0, 0, {}, b"k", b"v", None, tp=TP("t.in", 0))
    message.incref()
    return message


@dataclass
class Event:
    value: bytes
    key: bytes = b"k"
    message: Message = field(default_factory=delivered)


class Table(dict[str, Any]):
    pass


def handlers(**topics: Topic) -> tuple[Handlers, dict[str, Topic]]:
    names = ("raw", "declarations", "enriched", "alerts", "deadletter", "facts", "flows")
    all_topics = {name: topics.get(name, Topic()) for name in (*names, "alert_versions")}
    stages = Stages(
        watched=None,  # type: ignore[arg-type]  # the handlers never read it
        enricher=Enricher(RULES),
        party_names=PartyKeys(NameNormaliser(RULES.screening)),
        tabular=TabularReader(MappingCatalog(None)),
    )
    tables = Tables(importers=Table(), alert_groups=Table(), flows=Table())
    return Handlers(Topics(**all_topics), stages, tables, RULES, Settings()), all_topics


def line(**changes: object) -> Declaration:
    base = {
        "declaration_id": "D1",
        "line_no": 1,
        "declared_at": "2024-03-01",
        "flow": "import",
        "hs_code": "8806.22",
        "value": "100",
        "currency": "USD",
        "importer_name": "OOO Pozitron",
        "destination_country": "RU",
        "source": "jsonl",
    }
    return Declaration.model_validate({**base, **changes})


def letters(topic: Topic) -> list[Any]:
    return [DEAD_LETTER.decode(value) for _, value in topic.sent]


def test_enrich_dead_letters_the_line_that_raised_and_sends_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle, topics = handlers()
    classify = handle.stages.enricher.classify

    def explode(hs: Any, description: str) -> Any:
        if description == "poison":
            raise OverflowError("boom")
        return classify(hs, description)

    monkeypatch.setattr(handle.stages.enricher, "classify", explode)
    poisoned = line(line_no=2, description="poison")
    batch = DeclarationBatch(source="jsonl", raw=REF, lines=[line(), poisoned, line(line_no=3)])
    good_only = DeclarationBatch(source="jsonl", raw=REF, lines=[line(line_no=4)])
    events = [Event(DECLARATION_BATCH.encode(batch)), Event(DECLARATION_BATCH.encode(good_only))]
    asyncio.run(asyncio.wait_for(handle.enrich(events), 10))
    (letter,) = letters(topics["deadletter"])
    assert letter.stage == "enrich" and letter.reason == "OverflowError: boom"
    assert orjson.loads(letter.payload)["line_no"] == 2
    assert (letter.topic, letter.partition, letter.offset) == (REF.topic, 0, 3)
    enriched = [ENRICHED_BATCH.decode(v) for _, v in topics["enriched"].sent]
    assert [[x.line_no for x in b.lines] for b in enriched] == [[1, 3], [4]]
    assert topics["facts"].sent


def test_a_party_transition_that_raises_is_one_letter_and_writes_nothing() -> None:
    handle, topics = handlers()
    key = "importer:ooopozitron"
    broken = {"first_seen": "2024-01-01", "months": {"2024-03": "not a month's entry"}}
    handle.tables.importers[key] = broken
    poisoned = PartyFacts(party_key=key, lines=[fact("2024-03-05")])
    fine = PartyFacts(party_key="importer:other", lines=[fact("2024-03-05")])
    packed = FactBatch(raw=REF, parties=[poisoned, fine])
    events = [Event(FACT_BATCH.encode(packed))]
    asyncio.run(asyncio.wait_for(handle.alerts(events), 10))
    (letter,) = letters(topics["deadletter"])
    # what follows the key is the error's own words, which differ between CPython's
    # dict.update and the compiled stage's type check
    assert letter.stage == "alerts" and letter.reason.startswith(f"party {key}: ")
    assert len(letter.reason) > len(f"party {key}: ") + 10
    assert letter.payload == events[0].value
    assert handle.tables.importers[key] == broken
    assert "importer:other" in handle.tables.importers


class App:
    def __init__(self) -> None:
        self.crashed: list[BaseException] = []

    async def crash(self, exc: BaseException) -> None:
        self.crashed.append(exc)


def test_an_unacknowledged_send_stops_the_worker_and_leaves_the_group_unacked() -> None:
    handle, _ = handlers(enriched=Topic(fail=True))
    app = App()
    batch = DeclarationBatch(source="jsonl", raw=REF, lines=[line()])
    events = [Event(DECLARATION_BATCH.encode(batch)), Event(b"not a batch")]
    with pytest.raises(ConnectionError):
        asyncio.run(handle_group(events, handle.enrich, app, flush=False))
    assert [type(e) for e in app.crashed] == [ConnectionError]
    consumer = object()
    for event in events:  # what take_events' finally does: the message stays unacked
        assert event.message.ack(consumer) is False  # type: ignore[arg-type]
        assert not event.message.acked


def test_a_handled_group_is_left_to_be_acked() -> None:
    handle, _ = handlers()
    app = App()
    events = [Event(b"not a batch")]
    asyncio.run(handle_group(events, handle.enrich, app, flush=False))
    assert not app.crashed and events[0].message.refcount == 1
