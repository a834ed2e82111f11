from datetime import UTC, date, datetime

from schemas.declaration import Declaration, DeclarationBatch, RawRef
from schemas.rule_data import load_rules
from schemas.watchlist import WatchlistEntry
from stream.screening.index import WatchlistIndex
from stream.screening.matcher import Screener
from stream.stages.enrich import Enricher
from stream.stages.facts import line_fact

ENRICHER = Enricher(load_rules())
NOW = datetime(2024, 5, 1, tzinfo=UTC)


def line(**changes: object) -> Declaration:
    base: dict[str, object] = {
        "declaration_id": "HK-1",
        "line_no": 1,
        "declared_at": "2024-04-15",
        "flow": "export",
        "hs_code": "8542.31.90",
        "destination_country": "ru",
        "importer_name": "AO Tekhnokom",
        "exporter_name": "Brightway Ltd",
        "source": "jsonl",
    }
    return Declaration.model_validate({**base, **changes})


def test_chpl_line_to_russia_raises_a_high_alert() -> None:
    enriched, alerts = ENRICHER.line(line(), now=NOW)
    assert enriched.destination_country == "RU"
    assert enriched.chpl_tier == "1"
    assert enriched.alert_rules == ["chpl_to_high_risk"]
    (alert,) = alerts
    assert alert.rule == "chpl_to_high_risk"
    assert alert.severity == "high"
    assert alert.partition_key() == "AO Tekhnokom"
    assert [(k.declaration_id, k.line_no) for k in alert.lines] == [("HK-1", 1)]
    assert "854231" in alert.reason and "RU" in alert.reason


def test_severity_follows_the_tier() -> None:
    _, alerts = ENRICHER.line(line(hs_code="8482.10.10", destination_country="BY"), now=NOW)
    assert [a.severity for a in alerts] == ["medium"]


def test_no_alert_for_other_destinations_or_non_chpl_goods() -> None:
    assert ENRICHER.line(line(destination_country="DE"), now=NOW)[1] == []
    assert ENRICHER.line(line(hs_code="0806.10"), now=NOW)[1] == []
    assert ENRICHER.line(line(destination_country=None), now=NOW)[1] == []


def test_alert_ids_are_deterministic_across_runs() -> None:
    first = ENRICHER.line(line(), now=NOW)[1][0]
    second = ENRICHER.line(line(), now=datetime(2025, 1, 1, tzinfo=UTC))[1][0]
    other_line = ENRICHER.line(line(line_no=2), now=NOW)[1][0]
    assert first.alert_id == second.alert_id
    assert first.alert_id != other_line.alert_id


def test_batch_keeps_the_raw_reference_on_every_line() -> None:
    ref = RawRef(topic="customs.raw.jsonl", partition=3, offset=9)
    batch = DeclarationBatch(source="jsonl", raw=ref, lines=[line(), line(line_no=2)])
    enriched, alerts = ENRICHER.batch(batch)
    assert [(x.raw_partition, x.raw_offset) for x in enriched.lines] == [(3, 9), (3, 9)]
    assert len(alerts) == 2
    assert enriched.raw.token() == "customs.raw.jsonl-3-9"


def test_a_listed_importers_registration_date_reaches_its_line_fact() -> None:
    rules = load_rules()
    entry = WatchlistEntry.model_validate(
        {
            "id": "reg-1",
            "dataset": "registry",
            "schema": "Company",
            "name": "AO Tekhnokom",
            "countries": ["ru"],
            "incorporated": "2023-11-20",
        }
    )
    screener = Screener(WatchlistIndex.build([entry], rules.screening))
    enricher = Enricher(rules, screener=lambda: screener)
    enriched, _ = enricher.line(line(importer_country="RU"), now=NOW)
    (hit,) = [h for h in enriched.screening_hits if h.role == "importer"]
    assert hit.entity_incorporated == date(2023, 11, 20)
    assert line_fact(enriched).importer_incorporated == date(2023, 11, 20)
    exporter_only = enricher.line(line(importer_name="Someone Else"), now=NOW)[0]
    assert line_fact(exporter_only).importer_incorporated is None
