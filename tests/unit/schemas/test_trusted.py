"""schemas.trusted: the same instance model_construct gives, for the hot path's models."""

from datetime import UTC, datetime

import pytest

from schemas.declaration import Declaration
from schemas.enriched import EnrichedDeclaration
from schemas.facts import LineFact
from schemas.trusted import trusted
from stream.stages.facts import line_fact
from tests.unit.stream.test_enrich_and_alert import ENRICHER, line

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def _same(a: object, b: object) -> None:
    assert type(a) is type(b)
    assert list(a.__dict__.items()) == list(b.__dict__.items())  # values and field order
    assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__  # type: ignore[attr-defined]
    assert a == b
    assert a.model_dump_json() == b.model_dump_json()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "changes",
    [{}, {"hs_code": "6211.43", "description": "бронежилет Бр4"}, {"value": "12.5"}],
)
def test_enriched_line_is_what_model_construct_gives(changes: dict[str, object]) -> None:
    enriched, _ = ENRICHER.line(line(**changes), now=NOW)
    values = dict(enriched.__dict__)
    _same(trusted(EnrichedDeclaration, values), EnrichedDeclaration.model_construct(**values))
    _same(enriched, EnrichedDeclaration.model_construct(**values))
    fact = line_fact(enriched)
    _same(fact, LineFact.model_validate(fact.model_dump()))


def test_every_field_is_required() -> None:
    values = dict(line().__dict__)
    del values["declaration_id"]
    with pytest.raises(KeyError):
        trusted(Declaration, values)


def test_names_that_are_not_fields_are_left_out() -> None:
    values = {**line().__dict__, "not_a_field": 1}
    _same(trusted(Declaration, values), Declaration.model_construct(**values))
