from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from schemas.declaration import Declaration

VALID = {
    "declaration_id": "CN-1",
    "line_no": 2,
    "declared_at": "2024-03-05",
    "flow": "export",
    "hs_code": "8806.22.00",
    "description": "  Quadcopter  ",
    "value": "1200.50",
    "destination_country": "RU",
}


def test_valid_line_is_parsed_with_types() -> None:
    line = Declaration.model_validate(VALID)
    assert line.declared_at == date(2024, 3, 5)
    assert line.value == Decimal("1200.50")
    assert line.description == "Quadcopter"
    assert line.key == ("CN-1", 2)
    assert line.importer_name is None
    assert line.extra == {}


def test_unknown_fields_are_kept_in_extra() -> None:
    line = Declaration.model_validate({**VALID, "port_of_entry": "Zabaikalsk", "gtd_box": 31})
    assert line.extra == {"port_of_entry": "Zabaikalsk", "gtd_box": 31}
    assert "port_of_entry" not in line.model_dump(exclude={"extra"})


def test_extra_merges_with_an_explicit_extra_map() -> None:
    line = Declaration.model_validate({**VALID, "extra": {"a": 1}, "b": 2})
    assert line.extra == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"declared_at": "2024-13-01"}, "declared_at"),
        ({"flow": "transit"}, "flow"),
        ({"line_no": 0}, "line_no"),
        ({"declaration_id": ""}, "declaration_id"),
        ({"value": "lots"}, "value"),
    ],
)
def test_invalid_fields_are_rejected_by_name(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Declaration.model_validate({**VALID, **change})
    assert field in {str(e["loc"][0]) for e in info.value.errors()}


def test_missing_required_field_is_rejected() -> None:
    data = dict(VALID)
    del data["declared_at"]
    with pytest.raises(ValidationError):
        Declaration.model_validate(data)
