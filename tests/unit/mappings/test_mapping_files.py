from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.errors import InvalidMapping
from schemas.mapping import MAPPINGS_DIR, header_key, load_mapping, packaged_mappings
from tests.unit.mappings.helpers import CN, RU, US, layout


def write(tmp_path: Path, data: dict[str, Any], name: str = "test_layout.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_every_packaged_mapping_loads_with_its_source() -> None:
    mappings = packaged_mappings()
    assert set(mappings) == {p.stem for p in MAPPINGS_DIR.glob("*.yaml")}
    assert set(mappings) == {"ru_import_declarations", "cn_export_records", "us_bill_of_lading"}
    for mapping in mappings.values():
        assert len(mapping.source) > 100
        assert mapping.required == ["declaration_id", "declared_at"]


def test_russian_layout() -> None:
    assert (RU.delimiter, RU.decimal_separator) == (";", ",")
    assert RU.thousands_separator == (" ", "\u00a0", "\u202f")
    assert RU.constants == {"flow": "import", "reporter": "RU", "destination_country": "RU"}
    assert RU.date_formats[0] == "%d.%m.%Y"
    assert RU.aliases[header_key("Вес нетто, кг")].name == "net_weight_kg"
    assert RU.aliases[header_key("Номер товара")].kind == "line_no"
    assert RU.aliases[header_key("ИНН получателя")].name == "importer_id"


def test_chinese_layout() -> None:
    assert CN.date_formats == ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"]
    assert CN.constants == {"flow": "export", "reporter": "CN", "dispatch_country": "CN"}
    assert CN.aliases[header_key("发货人")].name == "exporter_name"
    assert CN.aliases[header_key("收货人")].name == "importer_name"
    assert CN.aliases[header_key("规格型号")] == ("extra", "specification", 0)
    assert CN.aliases[header_key("美元总价")].rank < CN.aliases[header_key("总价")].rank


def test_us_layout() -> None:
    assert US.constants["flow"] == "import" and US.constants["destination_country"] == "US"
    assert US.aliases[header_key("Shipper")].name == "exporter_name"
    assert US.aliases[header_key("Consignee")].name == "importer_name"
    assert US.aliases[header_key("Notify Party")].name == "notify_name"
    assert US.aliases[header_key("Port of Lading")] == ("extra", "port_of_lading", 0)
    assert US.aliases[header_key("Weight (kg)")] == ("extra", "gross_weight_kg", 0)
    assert US.line_no_column == []


def test_header_key_ignores_case_spacing_and_punctuation() -> None:
    assert header_key("  Вес  нетто,\u00a0КГ ") == header_key("вес нетто (кг)") == "веснеттокг"
    assert header_key("WEIGHT(KG)") == header_key("Weight (kg)")
    assert header_key("净重（千克）") == header_key("净重(千克)")  # full-width brackets
    assert header_key("\ufeffBill-of-Lading_Number") == "billofladingnumber"
    assert header_key("Value ($)") != header_key("Value")


def test_load_mapping_reads_a_file(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, layout()))
    assert mapping.name == "test_layout"
    assert mapping.extra_columns == "keep" and mapping.header_row == 1 and mapping.encoding is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"columns": {**layout()["columns"], "hs": ["HS"]}},
            r"columns: unknown canonical field hs",
        ),
        ({"columns": {**layout()["columns"], "line_no": ["No"]}}, r"line_no \(line numbers use"),
        ({"constants": {"flow": "import", "shipper": "X"}}, r"unknown canonical field shipper"),
        ({"columns": {**layout()["columns"], "unit": []}}, r"unit has no aliases"),
        ({"columns": {**layout()["columns"], "unit": ["--"]}}, r"alias '--' has no letters"),
        (
            {"columns": {**layout()["columns"], "currency": ["Description"]}},
            r"alias 'Description' is claimed by both description and currency",
        ),
        (
            {"extra_fields": {"note": ["hs-code"]}},
            r"alias 'hs-code' is claimed by both hs_code and extra_fields\.note",
        ),
        ({"line_no_column": "date"}, r"claimed by both declared_at and line_no_column"),
        ({"required": ["declaration_id", "unit"]}, r"no column or constant gives unit"),
        ({"constants": {"reporter": "RU"}}, r"no column or constant gives flow"),
        ({"constants": {"flow": "inbound"}}, r"flow must be import or export"),
        ({"format": "xlsx"}, r"date_formats needs %Y-%m-%d for \.xlsx"),
        ({"thousands_separator": ","}, r"',' is both decimal and thousands separator"),
        ({"thousands_separator": ["00"]}, r"one non-digit character"),
        ({"encoding": "klingon"}, r"unknown encoding 'klingon'"),
        ({"delimiter": '"'}, r"cannot delimit"),
        ({"extra_columns": "drop"}, r"extra_columns"),
        ({"colums": {}}, r"colums: Extra inputs are not permitted"),
        ({"source": ""}, r"source"),
    ],
)
def test_invalid_mapping_fails_at_load(
    tmp_path: Path, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidMapping, match=rf"^test_layout\.yaml: .*{reason}"):
        load_mapping(write(tmp_path, layout(**changes)))


def test_malformed_yaml_and_wrong_name_fail(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("columns: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidMapping, match=r"^broken\.yaml: "):
        load_mapping(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- a\n", encoding="utf-8")
    with pytest.raises(InvalidMapping, match="expected a mapping of keys, got list"):
        load_mapping(tmp_path / "list.yaml")
    other = tmp_path / "other"
    other.mkdir()
    write(other, layout(), name="renamed.yaml")
    with pytest.raises(InvalidMapping, match="name 'test_layout' differs from the file name"):
        packaged_mappings(other)
