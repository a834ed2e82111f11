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
from typing import IO, Any

import orjson
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ingest.formats.tabular.encoding import detect_encoding
from ingest.formats.tabular.limits import Deadline, ReadRefused, check_row, check_zip
from schemas.mapping import Mapping
from schemas.settings import IngestSettings

DETECT_SAMPLE_BYTES = 1 << 20  # bytes the encoding detector looks at
HEADER_BYTES = 1 << 20  # where the header must end for the split without cells
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


def _byte_lines(data: bytes, encoding: str) -> list[_Line]:
    """Physical lines split on the bytes themselves: right for every encoding in which CR
    and LF are single bytes that no multi-byte character contains (UTF-8, cp125x, GB18030,
    Shift_JIS, ...), and much faster than re-encoding each line."""
    lines: list[_Line] = []
    offset = 0
    decoder_name = encoding
    for chunk in data.splitlines(keepends=True):
        content = len(chunk.rstrip(b"\r\n"))
        try:
            text = chunk.decode(decoder_name)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"the file is not {encoding}: {exc.reason} at byte {offset + exc.start} "
                f"(line {len(lines) + 1}); pass the right encoding"
            ) from exc
        lines.append(_Line(text, offset, offset + content))
        offset += len(chunk)
        decoder_name = "utf-8" if encoding == "utf-8-sig" else encoding  # BOM: first line only
    return lines


def _lines(data: bytes, encoding: str) -> list[_Line]:
    """Physical lines with their byte spans, found by re-encoding the decoded text (or by
    splitting the bytes, where that is the same and faster)."""
    if not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return _byte_lines(data, encoding)
    text = _decode(data, encoding)
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


def _line_rows(data: bytes, encoding: str, start: int, number: int) -> Iterator[Row] | None:
    """Rows without their cells, one per non-blank line from byte ``start`` (line
    ``number``), when no line can be part of a multi-line quoted cell (every line holds an
    even number of quotes); else None. Works on the bytes (a quote is one byte 0x22 in every
    encoding this path takes), so a connector that only forwards rows skips CSV parsing."""
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return None
    chunks = data[start:].splitlines(keepends=True)
    if any(chunk.count(b'"') % 2 for chunk in chunks):
        return None

    def rows() -> Iterator[Row]:
        offset = start
        for index, chunk in enumerate(chunks, start=number):
            content = chunk.rstrip(b"\r\n")
            if content.strip():
                yield Row(number=index, raw=content, cells=[])
            offset += len(chunk)

    return rows()


def _header(lines: list[_Line], data: bytes, mapping: Mapping) -> tuple[Row, Iterator[Row]]:
    rows = _csv_rows(lines, data, mapping.header_row - 1, mapping.delimiter)
    header = next(rows, None)
    if header is None:
        raise ValueError(f"no header: the file has no text from line {mapping.header_row} on")
    if header.number != mapping.header_row:
        raise ValueError(f"line {mapping.header_row} should hold the header but is blank")
    return header, rows


def _bounded(table: TabularFile, limits: IngestSettings) -> TabularFile:
    """The table with its header and every row held to the row and column limits."""
    check_row(1, len(table.header), limits)

    def rows() -> Iterator[Row]:
        for row in table.rows:
            check_row(row.number, len(row.cells), limits)
            yield row

    return TabularFile(table.encoding, table.header, rows())


def _names(header: Row) -> list[str]:
    return [header.cells[0].removeprefix("\ufeff"), *header.cells[1:]]


def _split_without_cells(data: bytes, mapping: Mapping, encoding: str) -> TabularFile | None:
    """The header parsed from the file's start, the rest split on line ends (see
    :func:`_line_rows`); None when that split would be wrong."""
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return None
    # Only the start is decoded here: a row further on that is not in the encoding is
    # dead-lettered by the stream, which decodes every row anyway.
    head = data[:HEADER_BYTES]
    if len(head) < len(data):
        head = head[: head.rfind(b"\n") + 1] or head
    lines = _lines(head, encoding)
    header, _ = _header(lines, head, mapping)
    header_end = lines[header.number - 1].start + len(header.raw)
    last = next(i for i in range(header.number - 1, len(lines)) if lines[i].end == header_end)
    after = lines[last + 1].start if last + 1 < len(lines) else len(head)
    body = _line_rows(data, encoding, after, last + 2)
    return None if body is None else TabularFile(encoding, _names(header), body)


def read_csv(
    data: bytes,
    mapping: Mapping,
    encoding_override: str | None = None,
    cells: bool = True,
    limits: IngestSettings | None = None,
) -> TabularFile:
    """Split CSV/TSV bytes into header and rows; encoding: override, mapping's, or detected.

    ``cells=False`` may leave rows' cells empty: when every line is a whole row, lines are
    split on their bytes without CSV parsing (for a connector that only forwards rows); the
    header is always parsed. Rows past ``limits`` raise :class:`ReadRefused` as they come."""
    limits = limits or IngestSettings()
    if mapping.format == "xlsx":
        raise ValueError(f"mapping {mapping.name} reads .xlsx files, not CSV")
    if len(data) > limits.max_file_bytes:
        raise ReadRefused(
            f"{len(data)} bytes, over the limit of {limits.max_file_bytes} (ingest.max_file_bytes)"
        )
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    # The start is enough to tell; decoding the whole file below checks the guess.
    encoding = detect_encoding(data[:DETECT_SAMPLE_BYTES], encoding_override or mapping.encoding)
    if not cells:
        fast = _split_without_cells(data, mapping, encoding)
        if fast is not None:
            return _bounded(fast, limits)
    lines = _lines(data, encoding)
    header, rows = _header(lines, data, mapping)
    return _bounded(TabularFile(encoding=encoding, header=_names(header), rows=rows), limits)


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
    source: Path | str | bytes,
    mapping: Mapping,
    sheet: str | None = None,
    limits: IngestSettings | None = None,
) -> TabularFile:
    """Read a workbook's sheet (the first one by default) eagerly, then close it.

    The zip is checked against ``limits`` before openpyxl opens it, and the sheet's declared
    dimension is ignored (a tiny file may declare ``A1:XFD1048576``, which openpyxl would
    pad every row to): rows are read as the XML has them, each held to the limits."""
    limits = limits or IngestSettings()
    if mapping.format == "csv":
        raise ValueError(f"mapping {mapping.name} reads CSV files, not .xlsx")
    if isinstance(source, bytes):
        return _read_sheet(io.BytesIO(source), mapping, sheet, limits)
    with Path(source).open("rb") as handle:
        return _read_sheet(handle, mapping, sheet, limits)


def _read_sheet(
    handle: IO[bytes], mapping: Mapping, sheet: str | None, limits: IngestSettings
) -> TabularFile:
    deadline = Deadline(limits)
    try:
        check_zip(handle, limits)
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"not a readable .xlsx workbook: {exc}") from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ValueError(f"no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        reset = getattr(worksheet, "reset_dimensions", None)  # read-only sheets have it
        if reset is not None:
            reset()
        found = worksheet.iter_rows(min_row=mapping.header_row, values_only=True)
        numbered = enumerate(found, start=mapping.header_row)
        header: list[str] = []
        rows = []
        for number, values in numbered:
            deadline.check(f"sheet row {number}")
            check_row(number, len(values), limits)
            cells = [_cell_text(v, mapping.decimal_separator) for v in values]
            if number == mapping.header_row:
                header = _trim(cells, 0)
                if not header:
                    raise ValueError(
                        f"sheet row {mapping.header_row} should hold the header but is blank"
                    )
            elif not _blank(cells):
                cells = _trim(cells, len(header))
                rows.append(Row(number=number, raw=orjson.dumps(cells), cells=cells))
        if not header:
            raise ValueError(f"sheet row {mapping.header_row} should hold the header but is blank")
    finally:
        workbook.close()
    return TabularFile(encoding="utf-8", header=header, rows=iter(rows))
