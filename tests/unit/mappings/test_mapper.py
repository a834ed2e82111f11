from decimal import Decimal

import pytest

from ingest.formats.tabular import LineCounter, map_row, map_rows, read_csv, resolve_header
from ingest.formats.tabular.values import parse_number
from schemas.declaration import Declaration
from tests.unit.mappings.helpers import RU, US, mapping

HEADER = ["Declaration No.", "Date", "HS Code", "Description", "Value"]
ROW = ["D1", "01.02.2024", "8806 22", "Quadcopter", "1 234 567,89"]


def test_a_row_becomes_a_declaration() -> None:
    line = map_row(HEADER, ROW, mapping(), line_no_fallback=3)
    assert line == {
        "declaration_id": "D1",
        "declared_at": "2024-02-01",
        "hs_code": "8806 22",
        "description": "Quadcopter",
        "value": "1234567.89",
        "line_no": 3,
        "flow": "import",
        "reporter": "RU",
    }
    declaration = Declaration.model_validate(line)
    assert declaration.value == Decimal("1234567.89")
    assert declaration.key == ("D1", 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234 567,89", "1234567.89"),
        ("1\u00a0234\u00a0567,89", "1234567.89"),
        ("1 234\u00a0567,89", "1234567.89"),
        ("1234567,89", "1234567.89"),
        ("-12,5", "-12.5"),
        ("0,001", "0.001"),
        (",5", "0.5"),
        ("999", "999"),
    ],
)
def test_decimal_comma_with_thousands(text: str, expected: str) -> None:
    assert parse_number(text, ",", (" ", "\u00a0")) == Decimal(expected)


@pytest.mark.parametrize(
    "text", ["12,34,5", "1 23 456", "1,234.5", "12 345 6", "1e5", "12.5", "12,"]
)
def test_malformed_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a number with decimal ',' and thousands ' '"):
        parse_number(text, ",", (" ",))


def test_us_numbers_and_no_thousands() -> None:
    assert parse_number("1,234,567.89", ".", (",",)) == Decimal("1234567.89")
    with pytest.raises(
        ValueError, match=r"'1,234' is not a number with decimal '.' and thousands none"
    ):
        parse_number("1,234", ".", ())


def test_bad_number_names_its_column_and_the_separators() -> None:
    header = ["Номер ДТ", "Дата ДТ", "Код ТН ВЭД", "Фактурная стоимость"]
    with pytest.raises(ValueError) as caught:
        map_row(header, ["D1", "01.02.2024", "8806", "12,34,5"], RU, 1)
    assert str(caught.value) == (
        "Фактурная стоимость: '12,34,5' is not a number with decimal ',' "
        "and thousands ' ' or '\\xa0' or '\\u202f'"
    )


def test_bad_dates_are_refused_with_the_formats_tried() -> None:
    m = mapping()
    for text in ("31.02.2024", "2024-02-01", "01/02/2024", "1.2.24"):
        with pytest.raises(
            ValueError, match=rf"^Date: '{text}' matches none of the date formats %d\.%m\.%Y$"
        ):
            map_row(HEADER, ["D1", text, "8806", "x", "1"], m, 1)


def test_several_date_formats_are_tried_in_order() -> None:
    m = mapping(date_formats=["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y"])
    dates = [map_row(HEADER, ["D", t, "8806", "", ""], m, 1)["declared_at"] for t in
             ("2024-03-15", "2024/03/16", "20240317", "18.03.2024")]  # fmt: skip
    assert dates == ["2024-03-15", "2024-03-16", "2024-03-17", "2024-03-18"]


def test_every_reason_is_reported_at_once() -> None:
    with pytest.raises(ValueError) as caught:
        map_row(HEADER, [" ", "30.02.2024", "", "x", "abc"], mapping(), 1)
    assert str(caught.value) == (
        "Declaration No.: empty cell for required field declaration_id; "
        "Date: '30.02.2024' matches none of the date formats %d.%m.%Y; "
        "Value: 'abc' is not a number with decimal ',' and thousands ' ' or '\\xa0'"
    )


def test_cell_count_must_match_the_header() -> None:
    with pytest.raises(ValueError, match=r"^row has 3 cells, header has 5$"):
        map_row(HEADER, ROW[:3], mapping(), 1)
    with pytest.raises(ValueError, match=r"^row has 6 cells, header has 5$"):
        map_row(HEADER, [*ROW, "x"], mapping(), 1)


def test_a_row_without_a_usable_code_is_kept_as_declared() -> None:
    for code in ("X", "N/A", "", "0"):
        line = map_row(HEADER, ["D1", "01.02.2024", code, "Quadcopter", ""], mapping(), 1)
        assert Declaration.model_validate(line).hs_code == code


def test_model_errors_name_the_column() -> None:
    with pytest.raises(ValueError, match=r"^line_no: Input should be greater than or equal to 1$"):
        map_row(HEADER, ROW, mapping(), 0)


def test_empty_cells_are_absent() -> None:
    line = map_row(HEADER, ["D1", "01.02.2024", "8806", "  ", "\u00a0"], mapping(), 1)
    assert "description" not in line and "value" not in line
    assert Declaration.model_validate(line).description == ""


def test_header_matching_ignores_case_spacing_and_punctuation() -> None:
    header = ["  DECLARATION-NO ", "date:", "hs\u00a0code", "DESCRIPTION", "value (eur)"]
    columns = resolve_header(header, mapping())
    assert columns.fields == {"declaration_id": (0,), "declared_at": (1,), "hs_code": (2,),
                              "description": (3,)}  # fmt: skip
    assert columns.unknown == {4: "value (eur)"}  # a different header, not punctuation
    line = map_row(columns, ROW, mapping(), 1)
    assert line["hs_code"] == "8806 22" and line["extra"] == {"value (eur)": "1 234 567,89"}


def test_unknown_columns_are_kept_in_extra_or_rejected() -> None:
    header = [*HEADER, "Примечание", "", "Примечание"]
    cells = [*ROW, "срочно", "lost header", ""]
    kept = map_row(header, cells, mapping(), 1)
    assert kept["extra"] == {"Примечание": "срочно", "column 7": "lost header"}
    assert Declaration.model_validate(kept).extra == kept["extra"]
    strict = mapping(extra_columns="reject")
    with pytest.raises(ValueError) as caught:
        map_row(header, cells, strict, 1)
    assert str(caught.value) == (
        "unknown column 'Примечание' has a value (extra_columns: reject); "
        "unknown column 'column 7' has a value (extra_columns: reject)"
    )
    assert "extra" not in map_row(header, [*ROW, "", "", ""], strict, 1)  # empty: nothing lost


def test_duplicate_unknown_headers_get_distinct_keys() -> None:
    header = [*HEADER, "Note", "Note"]
    line = map_row(header, [*ROW, "a", "b"], mapping(), 1)
    assert line["extra"] == {"Note": "a", "Note (7)": "b"}


def test_missing_required_column_is_a_file_level_error() -> None:
    header = ["Номер ДТ", "Код ТН ВЭД", "Описание товара"]
    with pytest.raises(ValueError) as caught:
        resolve_header(header, RU)
    assert str(caught.value).startswith("missing required column for declared_at (aliases: ")
    table = read_csv(b"Date;HS Code\r\n01.02.2024;8806\r\n", mapping())
    with pytest.raises(
        ValueError, match=r"^missing required column for declaration_id \(aliases: "
    ):
        map_rows(table, mapping())


def test_a_layout_without_a_code_column_is_read() -> None:
    header = ["Номер ДТ", "Дата ДТ", "Описание товара"]
    assert resolve_header(header, RU) is not None


def test_constants_fill_only_absent_fields() -> None:
    m = mapping(
        columns={**mapping().columns, "reporter": ["Reporter"]},
        constants={"flow": "import", "reporter": "RU", "currency": "RUB"},
    )
    header = [*HEADER, "Reporter"]
    assert map_row(header, [*ROW, "BY"], m, 1)["reporter"] == "BY"
    line = map_row(header, [*ROW, ""], m, 1)
    assert (line["reporter"], line["currency"], line["flow"]) == ("RU", "RUB", "import")


def test_first_alias_with_a_value_wins() -> None:
    header = ["Declaration No.", "Date", "Commodity code", "HS Code"]
    assert map_row(header, ["D", "01.02.2024", "9013", "8806"], mapping(), 1)["hs_code"] == "8806"
    assert map_row(header, ["D", "01.02.2024", "9013", ""], mapping(), 1)["hs_code"] == "9013"


def test_line_number_column_or_fallback() -> None:
    m = mapping(line_no_column=["Item"])
    header = [*HEADER, "Item"]
    assert map_row(header, [*ROW, "7"], m, 1)["line_no"] == 7
    assert map_row(header, [*ROW, ""], m, 2)["line_no"] == 2
    with pytest.raises(
        ValueError, match=r"^Item: '1\.5' is not a line number \(a whole number from 1\)$"
    ):
        map_row(header, [*ROW, "1.5"], m, 1)
    with pytest.raises(ValueError, match=r"^Item: '0' is not a line number"):
        map_row(header, [*ROW, "0"], m, 1)


def test_line_counter_numbers_rows_per_declaration() -> None:
    counter = LineCounter()
    assert [counter.count(d) for d in ("A", "B", "A", "A", "B")] == [1, 1, 2, 3, 2]


def test_map_rows_counts_bad_rows_too() -> None:
    data = (
        b"Bill of Lading Number,Arrival Date,HS Code,Product Description\n"
        b"B1,2024-03-01,880622,Drones\n"
        b"B2,2024-03-02,850760,Batteries\n"
        b"B1,2024-02-30,850760,Batteries\n"
        b"B1,2024-03-01,852589,Cameras\n"
    )
    mapped = list(map_rows(read_csv(data, US), US))
    assert [(m.row.number, m.line and m.line["line_no"]) for m in mapped] == [
        (2, 1), (3, 1), (4, None), (5, 3)
    ]  # fmt: skip
    assert (
        mapped[2].error
        == "Arrival Date: '2024-02-30' matches none of the date formats %Y-%m-%d, %m/%d/%Y"
    )
