"""Tabular exports (CSV/TSV bytes, .xlsx workbooks) → a header and rows of cell strings.

Every :class:`Row` keeps the bytes it came from, so a row the mapping refuses can be
dead-lettered exactly as the feed delivered it. Blank rows (no cell with text) are skipped;
rows with too few or too many cells are yielded as they are, for the mapper to refuse. CSV
quoting is read leniently (a stray quote inside a cell is text), but a quoted cell still open
when the file ends is an error: it would swallow every row after it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from schemas.mapping import Mapping
from stream.mappings.encoding import detect_encoding

FIELD_SIZE_LIMIT = 64 * 1024 * 1024
"""Largest CSV cell read, in characters; the csv module's limit (128 KiB by default) is
process-wide, so :func:`read_csv` raises it to this once."""

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row.

    ``number`` is the 1-based physical row where it starts (a CSV line; an .xlsx sheet row).
    ``raw`` is the row's exact bytes in a CSV file, across its lines when a quoted cell holds
    a line break, without the final line ending. An .xlsx row has no bytes of its own: its
    ``raw`` is the UTF-8 JSON array of its cell strings.
    """

    number: int
    raw: bytes
    cells: list[str]


@dataclass(frozen=True, slots=True)
class TabularFile:
    """A file's encoding (``utf-8`` for .xlsx), header cells and data rows (read once)."""

    encoding: str
    header: list[str]
    rows: Iterator[Row]


@dataclass(frozen=True, slots=True)
class _Line:
    text: str  # with its line ending
    start: int  # byte offsets in the file
    end: int  # end of the content, before the line ending


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"the file is not {encoding}: {exc.reason} at byte {exc.start} (line {line}); "
            "pass the right encoding"
        ) from exc


def _lines(data: bytes, text: str, encoding: str) -> list[_Line]:
    """Physical lines with their byte spans, found by re-encoding the decoded text."""
    encoder = codecs.getincrementalencoder(encoding)()
    lines: list[_Line] = []
    pos = offset = 0
    while pos < len(text):
        found = _LINE_END.search(text, pos)
        stop, after = (found.start(), found.end()) if found else (len(text), len(text))
        content, ending = encoder.encode(text[pos:stop]), encoder.encode(text[stop:after])
        end = offset + len(content)
        if data[offset:end] != content or data[end : end + len(ending)] != ending:
            raise ValueError(f"line {len(lines) + 1} does not round-trip through {encoding}")
        lines.append(_Line(text[pos:after], offset, end))
        pos, offset = after, end + len(ending)
    return lines


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _unclosed(text: str, delimiter: str) -> bool:
    """Whether the file's last record ends inside a quoted cell (lenient csv accepts that)."""
    try:
        for _ in csv.reader([text], delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _csv_rows(lines: list[_Line], data: bytes, first: int, delimiter: str) -> Iterator[Row]:
    consumed = first

    def feed() -> Iterator[str]:
        nonlocal consumed
        for line in lines[first:]:
            consumed += 1
            yield line.text

    reader = csv.reader(feed(), delimiter=delimiter)
    start = first
    try:
        for cells in reader:
            last = consumed == len(lines)
            if last and _unclosed("".join(ln.text for ln in lines[start:consumed]), delimiter):
                raise ValueError(
                    f"line {start + 1}: a quoted cell is never closed (truncated file?)"
                )
            if not _blank(cells):
                raw = data[lines[start].start : lines[consumed - 1].end]
                yield Row(number=start + 1, raw=raw, cells=cells)
            start = consumed
    except csv.Error as exc:
        raise ValueError(f"line {start + 1}: {exc}") from exc


def read_csv(data: bytes, mapping: Mapping, encoding_override: str | None = None) -> TabularFile:
    """Split CSV/TSV bytes into header and rows; encoding: override, mapping's, or detected."""
    if mapping.format == "xlsx":
        raise ValueError(f"mapping {mapping.name} reads .xlsx files, not CSV")
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    encoding = detect_encoding(data, encoding_override or mapping.encoding)
    lines = _lines(data, _decode(data, encoding), encoding)
    rows = _csv_rows(lines, data, mapping.header_row - 1, mapping.delimiter)
    header = next(rows, None)
    if header is None:
        raise ValueError(f"no header: the file has no text from line {mapping.header_row} on")
    if header.number != mapping.header_row:
        raise ValueError(f"line {mapping.header_row} should hold the header but is blank")
    cells = [header.cells[0].removeprefix("\ufeff"), *header.cells[1:]]
    return TabularFile(encoding=encoding, header=cells, rows=rows)


def _cell_text(value: Any, decimal: str) -> str:
    """An .xlsx cell as text: ISO dates, numbers without float noise in the mapping's notation."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        number = Decimal(format(value, ".15g")) if isinstance(value, float) else value
        return format(number, "f").replace(".", decimal)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _trim(cells: list[str], width: int) -> list[str]:
    """Drop empty cells past ``width``, pad to ``width``: an .xlsx row has no cell count."""
    end = len(cells)
    while end > width and not cells[end - 1].strip():
        end -= 1
    return cells[:end] + [""] * (width - end)


def read_xlsx(
    source: Path | str | bytes, mapping: Mapping, sheet: str | None = None
) -> TabularFile:
    """Read a workbook's sheet (the first one by default) eagerly, then close it."""
    if mapping.format == "csv":
        raise ValueError(f"mapping {mapping.name} reads CSV files, not .xlsx")
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"not a readable .xlsx workbook: {exc}") from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ValueError(f"no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        found = worksheet.iter_rows(min_row=mapping.header_row, values_only=True)
        texts = ([_cell_text(v, mapping.decimal_separator) for v in row] for row in found)
        header = _trim(next(texts, []), 0)
        if not header:
            raise ValueError(f"sheet row {mapping.header_row} should hold the header but is blank")
        rows = []
        for number, cells in enumerate(texts, start=mapping.header_row + 1):
            if not _blank(cells):
                cells = _trim(cells, len(header))
                rows.append(Row(number=number, raw=orjson.dumps(cells), cells=cells))
    finally:
        workbook.close()
    return TabularFile(encoding="utf-8", header=header, rows=iter(rows))
