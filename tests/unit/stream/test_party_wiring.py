"""Party ids on enriched lines, the stateful rules' key, the registry's wire form and the
sink's rows for merges (the pure parts; tests/integration/test_parties.py runs them live)."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.codecs import PARTY_MERGE, PARTY_REGISTRY
from schemas.declaration import Declaration
from schemas.party import PartyMerge
from schemas.rule_data import load_rules
from schemas.settings import TopicSettings
from stream.screening.names import NameNormaliser
from stream.sink.tables import sink_tables
from stream.stages.enrich import Enricher, party_book
from stream.stages.facts import PartyKeys
from stream.stages.party import RegistryEvent
from stream.worker.parties import RefreshClock, from_merge, from_registry, to_message

RULES = load_rules()
NOW = datetime(2024, 5, 1, tzinfo=UTC)
SIRIUS_INN = "7704730655"


def line(n: int, importer: str | None, **changes: object) -> Declaration:
    base: dict[str, object] = {
        "declaration_id": f"D-{n}",
        "line_no": 1,
        "declared_at": "2024-04-15",
        "flow": "export",
        "hs_code": "8542.31.90",
        "destination_country": "RU",
        "importer_name": importer,
        "importer_country": "ru",
        "exporter_name": "Brightway Ltd",
        "exporter_country": "HK",
        "source": "jsonl",
    }
    return Declaration.model_validate({**base, **changes})


def test_every_party_role_gets_its_id_and_spellings_share_one() -> None:
    enricher = Enricher(RULES)
    a, _ = enricher.line(line(1, "OOO Vektor-Snab", notify_name="Notify Co"), now=NOW)
    b, _ = enricher.line(line(2, "ООО «ВЕКТОР-СНАБ»", manufacturer="Chip Fab Inc"), now=NOW)
    assert a.importer_party_id and a.importer_party_id == b.importer_party_id
    assert a.importer_party == b.importer_party == a.importer_party_id
    assert b.importer_party_name == "OOO Vektor-Snab"  # the first spelling registered
    assert a.exporter_party_id and a.exporter_party_id != a.importer_party_id
    assert a.notify_party_id and a.notify_party_name == "Notify Co"
    assert b.manufacturer_party_id and a.manufacturer_party_id is None
    assert a.declarant_party_id is None


def test_a_line_id_is_the_same_in_another_process_but_the_party_follows_merges() -> None:
    first, second = Enricher(RULES), Enricher(RULES)
    sirius, _ = first.line(line(1, "JSC Concern Sirius", importer_id=SIRIUS_INN), now=NOW)
    orbita, _ = first.line(line(2, "OOO Orbita-Tekh", importer_id=SIRIUS_INN), now=NOW)
    again, _ = second.line(line(2, "OOO Orbita-Tekh", importer_id=SIRIUS_INN), now=NOW)
    assert orbita.importer_party_id == again.importer_party_id != sirius.importer_party_id
    assert orbita.importer_party == sirius.importer_party_id  # merged by the shared INN
    assert again.importer_party == again.importer_party_id  # the other had no Sirius yet
    # the stateful rules key on the line's own id, the same whichever worker met which
    # spelling first; the warehouse's views follow the merge
    keys = PartyKeys(NameNormaliser(RULES.screening))
    assert keys(orbita) == keys(again) == f"importer:{orbita.importer_party_id}"
    assert keys(sirius) == f"importer:{sirius.importer_party_id}" != keys(orbita)
    nameless, _ = first.line(line(3, None), now=NOW)
    assert keys(nameless) == f"exporter:{nameless.exporter_party_id}"


def test_the_enricher_keeps_what_the_worker_must_publish() -> None:
    book = party_book(RULES)
    enricher = Enricher(RULES, parties=book)
    enricher.line(line(1, "JSC Concern Sirius", importer_id=SIRIUS_INN), now=NOW)
    enricher.line(line(2, "OOO Orbita-Tekh", importer_id=SIRIUS_INN), now=NOW)
    pending = book.take_pending()
    assert [e.kind for e in pending].count("merge") == 1
    assert {e.kind for e in pending} == {"name", "identifier", "merge"}
    assert book.take_pending() == []
    offline = Enricher(RULES)
    offline.line(line(1, "JSC Concern Sirius"), now=NOW)
    assert offline.parties.take_pending() == []


def test_registry_events_round_trip_through_their_topics() -> None:
    name = RegistryEvent("name", "P1", name="OOO Vektor-Snab", country="RU")
    ident = RegistryEvent("identifier", "P1", identifier="ru_inn:7704730655")
    merge = RegistryEvent("merge", "P2", to="P1", reason="identifier seen with both names")
    split = RegistryEvent("split", "P2", to="P1", reason="analyst")
    for event in (name, ident):
        kind, key, value = to_message(event)
        assert kind == "registry" and from_registry(PARTY_REGISTRY.decode(value)) == event
    assert to_message(name)[1] != to_message(ident)[1]
    for event in (merge, split):
        kind, key, value = to_message(event)
        assert (kind, key) == ("merges", b"P2")
        assert from_merge(PARTY_MERGE.decode(value)) == event


def test_the_sink_lands_merges_with_their_event_id() -> None:
    topics = TopicSettings(prefix="t")
    table = sink_tables(topics)["t.party-merges"]
    merge = PartyMerge(kind="merge", from_party="P2", to_party="P1", reason="r", by="ann")
    identity, rows = table.decode(PARTY_MERGE.encode(merge))
    assert table.table == "party_merges" and identity == merge.event_id
    assert dict(zip(table.columns, rows[0], strict=True))["from_party"] == "P2"
    later = PartyMerge(kind="split", from_party="P2", to_party="P1", reason="r", by="ann")
    assert later.event_id != merge.event_id


def test_a_merge_split_apart_before_it_was_published_is_not_published() -> None:
    book = party_book(RULES)
    book.resolve("JSC Concern Sirius", "RU", [SIRIUS_INN])
    orbita = book.resolve("OOO Orbita-Tekh", "RU", [SIRIUS_INN])
    assert orbita.base is not None and orbita.party_id != orbita.base
    # an analyst's split read from the merges topic before this worker published
    book.apply([RegistryEvent("split", orbita.base, reason="analyst")])
    pending = book.take_pending()
    assert pending and not [e for e in pending if e.kind == "merge"]
    assert book.root(orbita.base) == orbita.base


def test_the_registry_refreshes_often_while_the_worker_has_parties_to_publish() -> None:
    clock = RefreshClock(busy_s=1.0, idle_s=5.0, now=100.0)
    assert not clock.due(pending=True, now=100.5)
    assert clock.due(pending=True, now=101.0)  # busy: a second after the last
    assert not clock.due(pending=False, now=103.0)  # idle: not before five
    assert not clock.due(pending=False, now=105.9)
    assert clock.due(pending=False, now=106.0)
    assert not clock.due(pending=True, now=106.9)  # taking one restarted the clock


def test_a_busy_interval_longer_than_the_idle_one_is_the_idle_one() -> None:
    clock = RefreshClock(busy_s=10.0, idle_s=5.0, now=0.0)
    assert clock.busy_s == 5.0
    assert clock.due(pending=True, now=5.0)
