"""Party ids through the real broker, a worker and the embedded ClickHouse: spellings of one
company are one party; an identifier seen with two names merges them and the warehouse
regroups their history without a row reinserted; an analyst's split undoes it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.broker.admin import create_topics, delete_topics
from ingest.broker.reader import read_to_end
from schemas.codecs import PARTY_MERGE, PARTY_REGISTRY
from schemas.rule_data import load_rules
from schemas.settings import Settings
from stream.stages.enrich import party_book
from stream.worker.parties import REGISTRY_WRITER_HEADER, PartyRegistryReader
from tests.services import Pipeline, wait_for

pytestmark = pytest.mark.integration

SIRIUS_INN = "7704730655"  # listed by the EU for JSC Sirius (32014R0833 annex IV)


def line(number: int, day: str, importer: str, importer_id: str | None = None) -> dict[str, Any]:
    return {
        "declaration_id": f"PARTY-{number:03d}",
        "line_no": 1,
        "declared_at": day,
        "flow": "export",
        "reporter": "CN",
        "hs_code": "6211.33",
        "description": "Bulletproof vest NIJ IIIA, aramid",
        "quantity": 100,
        "unit": "pcs",
        "value": 10_000 * number,
        "currency": "USD",
        "origin_country": "CN",
        "dispatch_country": "CN",
        "destination_country": "RU",
        "exporter_name": "Shanghai Hengwei Protective Gear Co., Ltd",
        "exporter_country": "CN",
        "importer_name": importer,
        "importer_country": "RU",
        "importer_id": importer_id,
        "source": "jsonl",
    }


def publish(pipe: Pipeline, path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    pipe.cli("ingest", "jsonl", str(path), "--source", "jsonl")


def query(pipe: Pipeline, name: str) -> list[dict[str, Any]]:
    out = pipe.cli("query", name, "--since", "2020-01-01", "--format", "json")
    rows: list[dict[str, Any]] = orjson.loads(out.stdout)
    return rows


def importers(pipe: Pipeline) -> dict[str, dict[str, Any]]:
    """The battlefield importers by display name."""
    return {r["importer_name"]: r for r in query(pipe, "top_importers_battlefield")}


def by_id(pipe: Pipeline) -> dict[str, dict[str, Any]]:
    """The battlefield importers by party id."""
    return {r["importer_party_id"]: r for r in query(pipe, "top_importers_battlefield")}


def test_spellings_merge_and_split_regroup_history_without_reinserting(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    pipeline.env["CUSTOMS_WATCH_WORKER_PARTY_REFRESH_S"] = "1"
    pipeline.start_worker()
    publish(
        pipeline,
        tmp_path / "first.jsonl",
        [
            line(1, "2024-03-01", "OOO Vektor-Snab"),
            line(2, "2024-03-02", "ООО «ВЕКТОР-СНАБ»"),
            line(3, "2024-03-03", "Vektor Snab, LLC"),
            line(4, "2024-03-04", "OOO Vektor-Snab"),
            line(5, "2024-03-05", "JSC Concern Sirius", f"ИНН {SIRIUS_INN}"),
            line(6, "2024-03-06", "OOO Orbita-Tekh"),
        ],
    )
    pipeline.cli("wait", "--timeout", "120")

    # three spellings, one party: the most frequent spelling shows, the others beside it
    seen = importers(pipeline)
    vektor = seen["OOO Vektor-Snab"]
    assert sorted(vektor["other_names"]) == ["Vektor Snab, LLC", "ООО «ВЕКТОР-СНАБ»"]
    assert vektor["lines"] == 4
    assert {"JSC Concern Sirius", "OOO Orbita-Tekh"} <= seen.keys()
    orbita_id = seen["OOO Orbita-Tekh"]["importer_party_id"]
    sirius_id = seen["JSC Concern Sirius"]["importer_party_id"]
    assert orbita_id != sirius_id

    # the INN turns up with the other name: the resolver merges, the warehouse regroups
    publish(
        pipeline,
        tmp_path / "second.jsonl",
        [line(7, "2024-03-07", "OOO Orbita-Tekh", SIRIUS_INN)],
    )

    def merged() -> bool:
        return orbita_id not in by_id(pipeline)

    wait_for(merged, 60, "the identifier merge to regroup the importers", pipeline)
    sirius = by_id(pipeline)[sirius_id]
    # the most frequent spelling now names the party; the other is beside it
    assert (sirius["importer_name"], sirius["other_names"]) == (
        "OOO Orbita-Tekh",
        ["JSC Concern Sirius"],
    )
    assert sirius["lines"] == 3
    profile = [r for r in query(pipeline, "party_profile") if r["party_id"] == sirius_id]
    assert sorted(profile[0]["written_ids"]) == sorted([sirius_id, orbita_id])
    assert "ru_inn" not in str(profile[0]["identifiers"])  # identifiers are as written
    assert any(SIRIUS_INN in i for i in profile[0]["identifiers"])
    (merge,) = profile[0]["merges"]
    assert merge[0] == orbita_id and "ru_inn:7704730655" in merge[1]
    totals = query(pipeline, "line_totals")[0]
    assert totals["lines"] == totals["distinct_lines"] == 7  # nothing reinserted

    shown = pipeline.cli("party", "show", "OOO Orbita-Tekh")
    assert sirius_id in shown.stdout and "JSC Concern Sirius" in shown.stdout
    # the party parameter, through the worker: a merged id, a name in another case, a part
    for wanted in (orbita_id, "jsc concern sirius", "Orbita"):
        found = pipeline.cli(
            "query", "party_profile", "--party", wanted, "--since", "2020-01-01", "--format",
            "json",
        )  # fmt: skip
        assert [r["party_id"] for r in orjson.loads(found.stdout)] == [sirius_id], wanted

    # an analyst splits it off again: the history of both names is apart again
    pipeline.cli("party", "split", orbita_id, "--reason", "a reseller, not Sirius", "--by", "t")

    def apart() -> bool:
        return by_id(pipeline).get(orbita_id, {}).get("lines") == 2

    wait_for(apart, 60, "the split to regroup the importers", pipeline)
    assert by_id(pipeline)[sirius_id]["lines"] == 1
    assert by_id(pipeline)[sirius_id]["importer_name"] == "JSC Concern Sirius"
    assert query(pipeline, "line_totals")[0]["lines"] == 7


def test_workers_share_the_registry_and_a_restarted_worker_replays_it(bootstrap: str) -> None:
    """Two workers' books through the real topics: what one registered the other resolves
    against, and a new reader (a restart) holds the same identifiers and merges."""
    tag = uuid.uuid4().hex[:8]
    settings = Settings(kafka={"bootstrap": bootstrap}, topics={"prefix": f"p{tag}"})
    create_topics(settings)
    rules = load_rules()
    try:
        first, second = party_book(rules), party_book(rules)
        one, two = PartyRegistryReader(settings, first), PartyRegistryReader(settings, second)
        sirius = first.resolve("JSC Concern Sirius", "RU", [SIRIUS_INN])
        assert one.refresh() == 0  # nothing on the topics yet; then it publishes
        assert two.refresh() == 2  # the other's name and identifier
        orbita = second.resolve("OOO Orbita-Tekh", "RU", [SIRIUS_INN])
        assert orbita.party_id == sirius.party_id != orbita.base
        two.refresh()  # publishes the name and the merge
        assert one.refresh() == 4  # its own two back, and the other's two
        assert orbita.base is not None
        assert first.root(orbita.base) == sirius.party_id  # the other worker's merge
        restarted = party_book(rules)
        # two names, one identifier, one merge
        assert PartyRegistryReader(settings, restarted).refresh() == 4
        for book in (first, second):
            assert restarted.registry.merged == book.registry.merged
            assert restarted.registry.identifiers == book.registry.identifiers
        again = restarted.resolve("OOO Orbita-Tekh", "RU", [SIRIUS_INN])
        assert (again.base, again.party_id, again.events) == (orbita.base, sirius.party_id, ())
        for reader in (one, two):
            reader.close()
    finally:
        delete_topics(settings, settings.topics.all_names())


def test_a_worker_folds_its_own_events_from_memory_and_another_workers_from_the_wire(
    bootstrap: str,
) -> None:
    """Issue 16: a reader does not decode what it published itself (acknowledged offsets,
    its incarnation's header), only the other worker's events; its registry ends as a
    restarted worker's that read and decoded the whole log, and the values on the topics
    are still what the analysts' CLI and the sink decode."""
    tag = uuid.uuid4().hex[:8]
    settings = Settings(kafka={"bootstrap": bootstrap}, topics={"prefix": f"p{tag}"})
    create_topics(settings)
    rules = load_rules()
    try:
        first, second = party_book(rules), party_book(rules)
        one, two = PartyRegistryReader(settings, first), PartyRegistryReader(settings, second)
        decoded: list[bytes] = []
        read_wire = one._decode

        def counted(topic: str, value: bytes) -> Any:
            decoded.append(value)
            return read_wire(topic, value)

        one._decode = counted  # type: ignore[method-assign]
        first.resolve("JSC Concern Sirius", "RU", [SIRIUS_INN])
        for n in range(12):
            first.resolve(f"OOO Tekhnika {n}", "RU")
        own = earlier = len(first.pending)
        assert one.refresh() == 0  # nothing yet; then it publishes
        second.resolve("OOO Orbita-Tekh", "RU", [SIRIUS_INN])
        for n in range(12):
            second.resolve(f"TOO Kazpribor {n}", "KZ")
        theirs = len(second.pending)
        assert two.refresh() == own  # read from the wire: its first refresh
        for n in range(12, 20):
            first.resolve(f"OOO Tekhnika {n}", "RU")
        merged = first.resolve("OOO Orbita Tekh Trading", "RU", [SIRIUS_INN])
        assert any(e.kind == "merge" for e in merged.events)  # its own merge, read back too
        own += one.publish_pending()  # after the other worker's: fetched back, by header
        assert one.refresh() == own + theirs
        assert len(decoded) == theirs  # only the other worker's events were decoded
        assert one.refresh() == 0 and len(decoded) == theirs
        assert two.refresh() == theirs + own - earlier  # its own back, the first's later ones
        restarted = party_book(rules)
        again = PartyRegistryReader(settings, restarted)
        assert again.incarnation not in (one.incarnation, two.incarnation)
        assert again.refresh() == own + theirs
        # (the second worker registered the INN before it read the first's: it keeps its own)
        for kind in ("written", "identifiers", "merged", "party_identifiers"):
            assert getattr(first.registry, kind) == getattr(restarted.registry, kind), kind
        assert {(n.party, n.words) for n in first.registry.names} == {
            (n.party, n.words) for n in restarted.registry.names
        }
        writers = set()
        for topic, codec in (
            (settings.topics.party_registry, PARTY_REGISTRY),
            (settings.topics.party_merges, PARTY_MERGE),
        ):
            for record in read_to_end(settings, topic):
                codec.decode(record.value)
                writers.update(bytes(v) for k, v in record.headers if k == REGISTRY_WRITER_HEADER)
        assert writers == {one.incarnation, two.incarnation}
        for reader in (one, two, again):
            reader.close()
    finally:
        delete_topics(settings, settings.topics.all_names())


def test_a_reader_keeps_one_consumer_and_makes_another_after_a_failure(
    bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: a refresh does not open a client of its own each time (a busy worker
    refreshes every second); one whose read failed is closed, the next refresh makes a new
    one and reads what the failed one left, each event once."""
    import stream.worker.parties as parties

    tag = uuid.uuid4().hex[:8]
    settings = Settings(kafka={"bootstrap": bootstrap}, topics={"prefix": f"p{tag}"})
    create_topics(settings)
    made: list[Any] = []
    real_consumer = parties.new_consumer

    def counted(settings: Settings) -> Any:
        made.append(real_consumer(settings))
        return made[-1]

    monkeypatch.setattr(parties, "new_consumer", counted)
    rules = load_rules()
    try:
        first, second = party_book(rules), party_book(rules)
        one, two = PartyRegistryReader(settings, first), PartyRegistryReader(settings, second)
        for n in range(5):
            second.resolve(f"TOO Kazpribor {n}", "KZ")
        assert two.refresh() == 0  # reads nothing, then publishes its five
        assert one.refresh() == 5
        for n in range(5, 8):
            second.resolve(f"TOO Kazpribor {n}", "KZ")
        two.publish_pending()
        assert one.refresh() == 3 and one.refresh() == 0
        assert sum(1 for c in made if c is one._reader) == 1 and len(made) == 2

        for n in range(8, 12):
            second.resolve(f"TOO Kazpribor {n}", "KZ")
        two.publish_pending()
        broken = one._reader

        def fails(*args: Any, **kwargs: Any) -> Any:
            raise OSError("connection reset")

        monkeypatch.setattr(broken, "poll", fails)
        with pytest.raises(OSError):
            one.refresh()
        assert one._reader is None  # closed, not kept
        assert one.refresh() == 4  # a new consumer reads what the failed one left
        assert len(made) == 3
        assert {n.words for n in first.registry.names} == {n.words for n in second.registry.names}
        for reader in (one, two):
            reader.close()
    finally:
        delete_topics(settings, settings.topics.all_names())


def test_a_merge_regroups_the_daily_importer_figures_and_first_seen_without_reinserting(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """daily_lines and importer_first_seen (views by party since migration 0019), through
    their named queries: an identifier merge moves a party's days and first sighting onto
    the party it joins."""
    pipeline.env["CUSTOMS_WATCH_WORKER_PARTY_REFRESH_S"] = "1"
    pipeline.start_worker()
    publish(
        pipeline,
        tmp_path / "first.jsonl",
        [
            line(1, "2024-03-01", "OOO Orbita-Tekh"),
            line(2, "2024-03-05", "OOO Orbita-Tekh"),
            line(3, "2024-03-05", "JSC Concern Sirius", f"ИНН {SIRIUS_INN}"),
            line(4, "2024-03-06", "ООО «ВЕКТОР-СНАБ»"),
            line(5, "2024-03-06", "OOO Vektor-Snab"),
        ],
    )
    pipeline.cli("wait", "--timeout", "120")

    def first_seen() -> dict[str, dict[str, Any]]:
        return {r["importer_party_id"]: r for r in query(pipeline, "importer_first_seen")}

    def daily() -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["day"], r["importer_party_id"]): r for r in query(pipeline, "importers_daily")}

    seen = {r["importer_name"]: r for r in first_seen().values()}
    assert len(seen) == 3  # two spellings of Vektor-Snab are one importer
    assert seen["OOO Orbita-Tekh"]["first_seen"] == "2024-03-01"
    assert seen["OOO Orbita-Tekh"]["lines"] == 2
    assert seen["JSC Concern Sirius"]["first_seen"] == "2024-03-05"
    orbita_id = seen["OOO Orbita-Tekh"]["importer_party_id"]
    sirius_id = seen["JSC Concern Sirius"]["importer_party_id"]
    (vektor,) = [r for r in seen.values() if r["lines"] == 2 and r["first_seen"] == "2024-03-06"]
    assert sorted([vektor["importer_name"], *vektor["other_names"]]) == [
        "OOO Vektor-Snab",
        "ООО «ВЕКТОР-СНАБ»",
    ]
    days = daily()
    assert days[("2024-03-05", orbita_id)]["lines"] == 1
    assert days[("2024-03-05", sirius_id)]["lines"] == 1
    assert days[("2024-03-06", vektor["importer_party_id"])]["lines"] == 2

    # the INN turns up with the other name: Orbita-Tekh's history moves onto Sirius
    publish(
        pipeline,
        tmp_path / "second.jsonl",
        [line(6, "2024-03-07", "OOO Orbita-Tekh", SIRIUS_INN)],
    )
    wait_for(
        lambda: orbita_id not in first_seen() and sirius_id in first_seen(),
        60,
        "the identifier merge to regroup importer_first_seen",
        pipeline,
    )
    sirius = first_seen()[sirius_id]
    assert (sirius["first_seen"], sirius["last_seen"], sirius["lines"]) == (
        "2024-03-01",
        "2024-03-07",
        4,
    )
    assert (sirius["importer_name"], sirius["other_names"]) == (
        "OOO Orbita-Tekh",
        ["JSC Concern Sirius"],
    )
    days = daily()
    assert not any(party == orbita_id for _, party in days)
    merged_day = days[("2024-03-05", sirius_id)]
    assert (merged_day["lines"], merged_day["value_usd"]) == (2, 20_000 + 30_000)
    assert merged_day["importer_name"] == "OOO Orbita-Tekh"
    assert [d for d, party in sorted(days) if party == sirius_id] == [
        "2024-03-01",
        "2024-03-05",
        "2024-03-07",
    ]
    totals = query(pipeline, "line_totals")[0]
    assert totals["lines"] == totals["distinct_lines"] == 6  # nothing reinserted
