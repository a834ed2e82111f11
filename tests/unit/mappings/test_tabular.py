import codecs
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from ingest.formats.tabular import map_row, read_csv, read_xlsx
from tests.unit.mappings.helpers import RU, SAMPLES, US, mapping

HEADER = "Declaration No.;Date;HS Code;Description;Value"


def csv_bytes(*lines: str, encoding: str = "utf-8", end: str = "\r\n") -> bytes:
    return end.join(lines).encode(encoding)


def test_ru_sample_rows_keep_their_exact_bytes() -> None:
    data = (SAMPLES / "ru_declarations_cp1251.csv").read_bytes()
    table = read_csv(data, RU)
    rows = list(table.rows)
    assert table.encoding == "cp1251"
    assert (
        table.header[0] == "Номер ДТ" and table.header[-1] == "Валюта" and len(table.header) == 19
    )
    assert [r.number for r in rows] == [2, *range(4, 15)]
    records = data.split(b"\r\n")  # the quoted line break inside row 1 is a bare LF
    first = rows[0]
    assert first.raw == records[1] and first.raw.count(b"\n") == 1
    assert first.raw.startswith(b"10702070/120324/3041187;") and first.raw.endswith(b";USD")
    assert first.cells[4] == (
        "Беспилотные летательные аппараты (квадрокоптеры) с видеокамерой; комплект:\n"
        "пульт ДУ, 2 аккумулятора"
    )
    assert first.cells[7] == 'ООО "ТЕХНОВЕКТОР-ДВ"'
    for row in rows[1:]:
        assert row.raw == records[row.number - 2]  # one physical line, CRLF stripped
        assert len(row.cells) == 19


def test_quoted_cell_with_line_break_and_delimiter_spans_lines() -> None:
    row = 'D1;01.02.2024;8806;"Quadcopter; kit:\r\nremote, 2 batteries";"1 000,50"'
    data = csv_bytes(HEADER, row, "D2;02.02.2024;9013;Sight;5")
    rows = list(read_csv(data, mapping()).rows)
    start = data.index(b"D1;")
    assert rows[0].raw == data[start : start + len(row.encode())] == row.encode()
    assert rows[0].cells[3] == "Quadcopter; kit:\r\nremote, 2 batteries"
    assert (rows[0].number, rows[1].number) == (2, 4)
    assert rows[1].raw == b"D2;02.02.2024;9013;Sight;5"


def test_truncated_last_row_is_still_yielded() -> None:
    data = csv_bytes(HEADER, "D1;01.02.2024;8806;Drone;10", "D2;02.02.2024;90")
    rows = list(read_csv(data, mapping()).rows)
    assert rows[-1].cells == ["D2", "02.02.2024", "90"]
    assert rows[-1].raw == b"D2;02.02.2024;90" and rows[-1].number == 3


def test_wrong_encoding_override_is_a_clear_error() -> None:
    data = (SAMPLES / "ru_declarations_cp1251.csv").read_bytes()
    with pytest.raises(ValueError, match=r"the file is not utf-8: invalid .* at byte 0 \(line 1\)"):
        read_csv(data, RU, encoding_override="utf-8")
    table = read_csv(data, RU, encoding_override="cp1251")
    assert table.header[1] == "Дата ДТ"


def test_utf8_bom_is_not_part_of_the_header() -> None:
    data = codecs.BOM_UTF8 + csv_bytes(HEADER, "D1;01.02.2024;8806;Drone;10")
    table = read_csv(data, mapping())
    assert table.encoding == "utf-8-sig"
    assert table.header[0] == "Declaration No."
    assert next(table.rows).raw == b"D1;01.02.2024;8806;Drone;10"


def test_utf16_rows_keep_their_bytes() -> None:
    text = f"{HEADER}\r\nD1;01.02.2024;8806;Дрон;10\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    table = read_csv(data, mapping())
    row = next(table.rows)
    assert table.header[0] == "Declaration No."
    assert row.raw == "D1;01.02.2024;8806;Дрон;10".encode("utf-16-le")
    assert row.cells[3] == "Дрон"


def test_one_megabyte_cell_parses_with_its_bytes() -> None:
    description = ("Жилет защитный; " * 70_000)[:1_048_576]
    row = f'D1;01.02.2024;6307;"{description}";12'
    data = csv_bytes(HEADER, row, "D2;01.02.2024;8806;Drone;1")
    rows = list(read_csv(data, mapping()).rows)
    assert len(rows[0].cells[3]) == 1_048_576 and rows[0].cells[3] == description
    assert rows[0].raw == row.encode("utf-8")
    assert rows[1].cells[0] == "D2"
    line = map_row(HEADER.split(";"), rows[0].cells, mapping(), 1)
    assert line["description"] == description.strip() and line["value"] == "12"


def test_title_lines_before_the_header_and_blank_lines_are_skipped() -> None:
    data = csv_bytes(
        "Export of 2024-03", '"unbalanced "title', HEADER, "", "D1;x;y;z;1", ";;;;", ""
    )
    table = read_csv(data, mapping(header_row=3))
    rows = list(table.rows)
    assert table.header[0] == "Declaration No."
    assert [(r.number, r.cells[0]) for r in rows] == [(5, "D1")]


def test_missing_or_blank_header_is_refused() -> None:
    with pytest.raises(ValueError, match="no header"):
        read_csv(b"", mapping())
    with pytest.raises(ValueError, match="line 2 should hold the header but is blank"):
        read_csv(csv_bytes("title", "", HEADER), mapping(header_row=2))


def test_lone_cr_and_lf_line_endings() -> None:
    for end in ("\r", "\n"):
        rows = list(
            read_csv(csv_bytes(HEADER, "D1;a;b;c;1", "D2;a;b;c;2", end=end), mapping()).rows
        )
        assert [r.raw for r in rows] == [b"D1;a;b;c;1", b"D2;a;b;c;2"]


def test_format_mismatch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"reads \.xlsx files, not CSV"):
        read_csv(b"a", mapping(format="xlsx", date_formats=["%Y-%m-%d"]))
    with pytest.raises(ValueError, match=r"reads CSV files, not \.xlsx"):
        read_xlsx(tmp_path / "x.xlsx", mapping())


def test_ru_xlsx_cells_become_text() -> None:
    table = read_xlsx(SAMPLES / "ru_declarations.xlsx", RU)
    rows = list(table.rows)
    assert table.encoding == "utf-8"
    assert table.header[3] == "Код ТН ВЭД" and len(table.header) == 19
    assert [r.number for r in rows] == list(range(2, 11))
    first = rows[0]
    assert first.cells[:4] == ["10012020/020424/0071133", "2024-04-02", "1", "8807300000"]
    assert first.cells[14:19] == ["312,5", "1500", "шт", "184500", "USD"]
    assert rows[1].cells[17] == "1234567,89"
    assert rows[2].cells[14] == "0,3"  # 0.1 + 0.2, without float noise
    assert rows[3].cells[1] == "2024-04-05"  # a datetime cell at midnight
    assert rows[3].cells[12] == ""  # an empty cell
    assert rows[3].cells[17] == "98 000,00"  # a number stored as text
    assert json.loads(first.raw.decode("utf-8")) == first.cells


def xlsx(rows: list[list[object]], sheets: int = 1) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for n in range(1, sheets):
        workbook.create_sheet(f"Other{n}").append(["ignored"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_LAYOUT = {"format": "xlsx", "date_formats": ["%d.%m.%Y", "%Y-%m-%d"]}


def test_xlsx_gaps_trailing_cells_and_times() -> None:
    data = xlsx(
        [
            ["Declaration No.", "Date", "HS Code", "Description", "Value", None],
            ["D1", date(2024, 2, 1), 8806, "Drone", 1e-7],
            [],
            ["D2", datetime(2024, 2, 2, 10, 30), "9013", "Sight", 2.5, None, None],
            ["D3", "03.02.2024", "9013", "Sight", True, None, "stray"],
        ]
    )
    table = read_xlsx(data, mapping(**XLSX_LAYOUT))
    rows = list(table.rows)
    assert table.header == ["Declaration No.", "Date", "HS Code", "Description", "Value"]
    assert [r.number for r in rows] == [2, 4, 5]  # the empty sheet row 3 is skipped
    assert rows[0].cells == ["D1", "2024-02-01", "8806", "Drone", "0,0000001"]
    assert rows[1].cells == ["D2", "2024-02-02 10:30:00", "9013", "Sight", "2,5"]
    assert rows[2].cells == ["D3", "03.02.2024", "9013", "Sight", "TRUE", "", "stray"]


def test_xlsx_sheet_choice_and_broken_files() -> None:
    data = xlsx([["Declaration No.", "Date", "HS Code"], ["D1", "x", "y"]], sheets=2)
    layout = mapping(**XLSX_LAYOUT)
    assert read_xlsx(data, layout, sheet="Other1").header == ["ignored"]
    with pytest.raises(ValueError, match=r"no sheet 'Missing' \(sheets: Sheet, Other1\)"):
        read_xlsx(data, layout, sheet="Missing")
    with pytest.raises(ValueError, match=r"not a readable \.xlsx workbook"):
        read_xlsx(b"not a zip", layout)
    with pytest.raises(ValueError, match="sheet row 1 should hold the header but is blank"):
        read_xlsx(xlsx([[], ["D1"]]), layout)


def test_us_sample_is_utf8_with_multi_line_addresses() -> None:
    data = (SAMPLES / "us_bol.csv").read_bytes()
    rows = list(read_csv(data, US).rows)
    assert len(rows) == 10 and [r.number for r in rows[:3]] == [2, 4, 6]
    lines = data.split(b"\n")
    assert rows[0].raw == lines[1] + b"\n" + lines[2]
    assert rows[0].cells[5] == "4100 COMMERCE PARKWAY, SUITE 210\nRENO, NV 89502"


def test_a_quoted_cell_left_open_at_the_end_is_refused() -> None:
    data = csv_bytes(HEADER, "D1;01.02.2024;8806;Drone;10", 'D2;02.02.2024;9013;Sight;"12', "D3;x")
    rows = read_csv(data, mapping()).rows
    assert next(rows).cells[0] == "D1"
    with pytest.raises(ValueError, match=r"^line 3: a quoted cell is never closed"):
        next(rows)
    stray = csv_bytes(HEADER, 'D1;01.02.2024;8806;6" drone;10')  # a stray quote is text
    assert next(read_csv(stray, mapping()).rows).cells[3] == '6" drone'


def test_tab_separated_values() -> None:
    data = "Declaration No.\tDate\tHS Code\nD1\t01.02.2024\t8806;22\n".encode("cp1251")
    layout = mapping(delimiter="\t")
    row = next(read_csv(data, layout).rows)
    assert row.cells == ["D1", "01.02.2024", "8806;22"] and row.raw == data.split(b"\n")[1]
    assert (
        map_row(["Declaration No.", "Date", "HS Code"], row.cells, layout, 1)["hs_code"]
        == "8806;22"
    )
