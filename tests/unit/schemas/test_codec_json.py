"""schemas.codecs.to_json: the bytes pydantic writes, for every record kind the worker sends."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, PlainSerializer, field_serializer

from bench.feed import realistic_lines
from schemas.alert import AlertBatch
from schemas.codecs import to_json
from schemas.dead_letter import DeadLetter
from schemas.declaration import Declaration, DeclarationBatch, RawRef
from schemas.enriched import EnrichedBatch
from schemas.rule_data import load_rules
from stream.screening.names import NameNormaliser
from stream.stages.facts import PartyKeys, fact_batches, flow_batches
from stream.stages.guard import line_letter
from tests.unit.stream.test_enrich_and_alert import ENRICHER, line

REF = RawRef(topic="customs.raw.jsonl", partition=2, offset=41)
AWKWARD: list[dict[str, object]] = [
    {"description": "бронежилет Бр4 «Кираса» \u2028 emoji \U0001f6e1", "value": "12.5"},
    {"value": "1234567890123456789012345678901.9999", "currency": "USD"},
    {"value": "0.000001", "currency": "EUR", "quantity": "1e-7"},
    {"extra": {"nested": {"list": [1, 2.5, None, True, "ü"]}, "big": 2**70}},
    {"declared_at": "1990-01-01", "hs_code": "8802.20; 9013.10", "importer_name": " \t x "},
]


def _records() -> list[BaseModel]:
    lines = [Declaration.model_validate(x) for x in realistic_lines(400, seed=7)]
    lines += [line(line_no=n + 2, **changes) for n, changes in enumerate(AWKWARD)]
    result = ENRICHER.lines(lines, REF)
    assert not result.rejected and result.alerts
    names = PartyKeys(NameNormaliser(load_rules().screening))
    records: list[BaseModel] = [
        DeclarationBatch(source="jsonl", raw=REF, lines=lines),
        EnrichedBatch(source="jsonl", raw=REF, lines=result.lines),
        AlertBatch(alerts=result.alerts),
        *result.alerts,
        *(f for _, f in fact_batches(result.lines, result.alerts, REF, names, 4)),
        *(f for _, f in flow_batches(result.lines, REF, "month", 4)),
        line_letter(lines[-1], REF, "enrich", "why"),
    ]
    return records


@pytest.mark.parametrize("record", _records(), ids=lambda r: type(r).__name__)
def test_the_same_bytes_as_pydantic(record: BaseModel) -> None:
    assert to_json(record) == record.model_dump_json().encode()


class Stamped(BaseModel):
    at: datetime
    amount: Decimal
    data: dict[Any, Any]


@pytest.mark.parametrize(
    "values",
    [
        {"at": datetime(2024, 1, 1, tzinfo=UTC), "amount": Decimal("1E+3"), "data": {}},
        {
            "at": datetime(2024, 1, 1, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=3))),
            "amount": Decimal("-0.00"),
            "data": {"nan": float("nan"), "inf": float("inf"), "tiny": 1e-7, "huge": 1e16},
        },
        {"at": datetime(2024, 1, 1, 0, 0, 0, 123000), "amount": Decimal("0.1"), "data": {}},
        # orjson refuses these: pydantic writes them
        {"at": datetime(2024, 1, 1, tzinfo=UTC), "amount": Decimal(1), "data": {"n": 2**64}},
        {"at": datetime(2024, 1, 1, tzinfo=UTC), "amount": Decimal(1), "data": {1: "int key"}},
    ],
)
def test_awkward_values_are_written_as_pydantic_writes_them(values: dict[str, Any]) -> None:
    record = Stamped(**values)
    assert to_json(record) == record.model_dump_json().encode()


class Custom(BaseModel):
    at: datetime

    @field_serializer("at")
    def _day(self, at: datetime) -> str:
        return at.date().isoformat()


Day = Annotated[datetime, PlainSerializer(lambda at: at.date().isoformat(), when_used="json")]


class DayList(BaseModel):
    days: list[Day]


def test_a_model_with_its_own_serialiser_is_written_by_pydantic() -> None:
    at = datetime(2024, 5, 1, 13, tzinfo=UTC)
    assert to_json(Custom(at=at)) == b'{"at":"2024-05-01"}'
    assert to_json(DayList(days=[at])) == b'{"days":["2024-05-01"]}'


def test_a_subclass_instance_is_written_with_the_declared_fields_only() -> None:
    enriched, _ = ENRICHER.line(line())
    batch = DeclarationBatch.model_construct(source="jsonl", raw=REF, lines=[enriched])
    assert to_json(batch) == batch.model_dump_json(warnings=False).encode()
    assert b"hs_digits" not in to_json(batch)


def test_a_dead_letter_keeps_its_bytes_in_base64() -> None:
    letter = DeadLetter.model_validate(
        {
            "stage": "parse",
            "reason": "bad",
            "source": "jsonl",
            "topic": REF.topic,
            "partition": 0,
            "offset": 1,
            "payload": "AAEC/w==",
            "failed_at": datetime(2024, 5, 1, tzinfo=UTC),
        }
    )
    assert to_json(letter) == letter.model_dump_json().encode()
    assert b'"payload":"AAEC/w=="' in to_json(letter)
