"""schemas.trusted: the same instance model_construct gives, for the hot path's models."""

from datetime import UTC, datetime

import orjson
import pytest

from schemas.alert import Alert, Party
from schemas.declaration import Declaration
from schemas.enriched import EnrichedDeclaration, Evidence, HsCode
from schemas.facts import LineFact
from schemas.raw import RawRecord, payload_checksum, read_record
from schemas.rule_data import load_rules
from schemas.trusted import trusted
from stream.stages.behaviour import importer_surge, new_importer_chpl, observe_importer
from stream.stages.facts import line_fact
from tests.unit.stream.line_facts import fact
from tests.unit.stream.test_enrich_and_alert import ENRICHER, line

NOW = datetime(2024, 5, 1, tzinfo=UTC)
RULES = load_rules().alerts


def _same(a: object, b: object) -> None:
    assert type(a) is type(b)
    assert list(a.__dict__.items()) == list(b.__dict__.items())  # values and field order
    assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__  # type: ignore[attr-defined]
    assert a == b
    assert a.model_dump_json() == b.model_dump_json()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"hs_code": "6211.43", "description": "бронежилет Бр4"},
        {"hs_code": "9503", "description": "DJI Mavic 3T thermal drone"},
        {"value": "12.5"},
    ],
)
def test_enriched_line_is_what_model_construct_gives(changes: dict[str, object]) -> None:
    enriched, _ = ENRICHER.line(line(**changes), now=NOW)
    values = dict(enriched.__dict__)
    _same(trusted(EnrichedDeclaration, values), EnrichedDeclaration.model_construct(**values))
    _same(enriched, EnrichedDeclaration.model_construct(**values))
    fact = line_fact(enriched)
    _same(fact, LineFact.model_validate(fact.model_dump()))
    for evidence in enriched.evidence:
        _same(evidence, Evidence.model_validate(evidence.model_dump()))


def test_every_field_is_required() -> None:
    values = dict(line().__dict__)
    del values["declaration_id"]
    with pytest.raises(KeyError):
        trusted(Declaration, values)


def test_names_that_are_not_fields_are_left_out() -> None:
    values = {**line().__dict__, "not_a_field": 1}
    _same(trusted(Declaration, values), Declaration.model_construct(**values))


def test_alerts_and_codes_built_on_the_hot_path_are_valid_models() -> None:
    _, alerts = ENRICHER.line(line(), now=NOW)
    assert alerts
    for alert in alerts:
        _same(alert, Alert.model_validate(alert.model_dump()))
        assert all(type(p) is Party for p in alert.parties)
    for declared in ("8542.31.90", "8802.20", "6211", "", "85", "8542 31; 9013.10"):
        code, _ = ENRICHER.normalise.hs(declared)
        _same(code, HsCode.model_validate(code.model_dump()))


def test_fields_in_order_are_taken_as_they_are_and_others_put_in_order() -> None:
    values = dict(line().__dict__)
    assert trusted(Declaration, values).__dict__ is values
    shuffled = dict(reversed(values.items()))
    built = trusted(Declaration, shuffled)
    assert built.__dict__ is not shuffled
    assert list(built.__dict__) == list(values)


def test_importer_rules_alerts_are_valid_models_after_a_round_trip_of_their_state() -> None:
    history = [fact(f"2023-{m:02d}-10", 400_000 / 6, n=m) for m in range(7, 13)]
    lines = [*history, fact("2024-01-10", 100_000), fact("2024-01-11", 300_000_000)]
    # the state as a restarted worker reads it back from the table's changelog
    state = orjson.loads(orjson.dumps(observe_importer(None, lines, RULES)))
    built = [
        importer_surge("k", state, "2024-01", RULES),
        importer_surge("k", state, "2023-09", RULES, reported=True),
        new_importer_chpl("importer:k", state, RULES),
    ]
    assert all(alert is not None for alert in built)
    for alert in built:
        assert alert is not None
        _same(alert, Alert.model_validate(alert.model_dump()))


@pytest.mark.parametrize(
    ("payload", "sequence"),
    [(b'{"declaration_id": "D1"}', None), ("Ёлка;ж\r".encode(), 3), (b"", 1)],
)
def test_a_record_a_connector_read_is_what_validation_gives(
    payload: bytes, sequence: int | None
) -> None:
    record = read_record("jsonl", "/feeds/a.jsonl", 7, payload, NOW, sequence)
    validated = RawRecord.model_validate(
        {
            "source": "jsonl",
            "origin": "/feeds/a.jsonl",
            "position": 7,
            "payload": payload,
            "checksum": payload_checksum(payload),
            "received_at": NOW,
            "sequence": sequence,
        }
    )
    _same(record, validated)
    assert RawRecord.model_validate_json(record.model_dump_json()) == record
