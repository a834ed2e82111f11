"""Rows of cell strings → dicts that :class:`Declaration` accepts, as a mapping directs.

:func:`resolve_header` reads a file's header once: which column fills which field, which
columns no alias names, and whether a required field has no column at all (a file-level
error). :func:`map_row` then maps each row or raises ValueError naming the column and the
reason. Empty cells count as absent; constants fill fields the row leaves absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, get_args

from pydantic import ValidationError

from ingest.formats.tabular.reader import Row, TabularFile
from ingest.formats.tabular.values import parse_date, parse_line_no, parse_number
from schemas.declaration import Declaration
from schemas.mapping import Mapping, header_key


def _fields_of(kind: type) -> frozenset[str]:
    return frozenset(
        name
        for name, info in Declaration.model_fields.items()
        if info.annotation is kind or kind in get_args(info.annotation)
    )


DATE_FIELDS = _fields_of(date)
NUMBER_FIELDS = _fields_of(Decimal)


@dataclass(frozen=True, slots=True)
class HeaderMap:
    """Where each field is in a file's rows: column indexes, the best alias first."""

    header: list[str]
    fields: dict[str, tuple[int, ...]]
    line_no: tuple[int, ...]
    extra_fields: dict[str, tuple[int, ...]]
    unknown: dict[int, str]
    """Columns no alias names, by index, with their key in ``extra``."""

    def first(self, cells: list[str], columns: tuple[int, ...]) -> tuple[int, str] | None:
        """The first of ``columns`` with a non-empty cell: (index, stripped text)."""
        for index in columns:
            text = cells[index].strip() if index < len(cells) else ""
            if text:
                return index, text
        return None

    def value(self, cells: list[str], name: str) -> str | None:
        """A canonical field's text in a row, or None when its cells are empty."""
        found = self.first(cells, self.fields.get(name, ()))
        return None if found is None else found[1]


def _extra_names(header: list[str], indexes: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for index in indexes:
        name = header[index].strip() or f"column {index + 1}"
        names[index] = f"{name} ({index + 1})" if name in names.values() else name
    return names


def resolve_header(header: list[str], mapping: Mapping) -> HeaderMap:
    """Match a header against the mapping's aliases; raises ValueError naming missing fields."""
    found: dict[tuple[str, str], list[tuple[int, int]]] = {}
    unknown: list[int] = []
    for index, cell in enumerate(header):
        target = mapping.aliases.get(header_key(cell))
        if target is None:
            unknown.append(index)
        else:
            found.setdefault((target.kind, target.name), []).append((target.rank, index))
    by_target = {key: tuple(i for _, i in sorted(hits)) for key, hits in found.items()}
    missing = [
        f"missing required column for {name} (aliases: {', '.join(mapping.aliases_of(name))})"
        for name in mapping.required
        if ("field", name) not in by_target and name not in mapping.constants
    ]
    if missing:
        raise ValueError("; ".join(missing))
    return HeaderMap(
        header=header,
        fields={name: cols for (kind, name), cols in by_target.items() if kind == "field"},
        line_no=by_target.get(("line_no", "line_no"), ()),
        extra_fields={name: cols for (kind, name), cols in by_target.items() if kind == "extra"},
        unknown=_extra_names(header, unknown),
    )


def _convert(name: str, text: str, mapping: Mapping) -> str:
    if name in DATE_FIELDS:
        return parse_date(text, mapping.date_formats).isoformat()
    if name in NUMBER_FIELDS:
        return str(parse_number(text, mapping.decimal_separator, mapping.thousands_separator))
    return text


def _describe(exc: ValidationError, columns: HeaderMap) -> str:
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "line"
        where = name
        if name in columns.fields:
            where = f"{columns.header[columns.fields[name][0]].strip()} ({name})"
        parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def map_row(
    header: list[str] | HeaderMap, cells: list[str], mapping: Mapping, line_no_fallback: int
) -> dict[str, Any]:
    """One row as a canonical line (JSON-ready: ISO dates, decimal strings).

    ``line_no_fallback`` is used when the layout has no line-number column or the cell is
    empty: the caller counts rows per declaration_id (see :class:`LineCounter`). Raises
    ValueError with every reason the row is refused. Pass a :class:`HeaderMap` to resolve
    the header once per file.
    """
    columns = header if isinstance(header, HeaderMap) else resolve_header(header, mapping)
    if len(cells) != len(columns.header):
        raise ValueError(f"row has {len(cells)} cells, header has {len(columns.header)}")
    errors: list[str] = []
    line: dict[str, Any] = {}
    for name, indexes in columns.fields.items():
        found = columns.first(cells, indexes)
        if found is None:
            if name in mapping.required and name not in mapping.constants:
                label = columns.header[indexes[0]].strip()
                errors.append(f"{label}: empty cell for required field {name}")
            continue
        index, text = found
        try:
            line[name] = _convert(name, text, mapping)
        except ValueError as exc:
            errors.append(f"{columns.header[index].strip()}: {exc}")
    line_no = columns.first(cells, columns.line_no)
    try:
        line["line_no"] = line_no_fallback if line_no is None else parse_line_no(line_no[1])
    except ValueError as exc:
        errors.append(f"{columns.header[columns.line_no[0]].strip()}: {exc}")
    extra: dict[str, str] = {}
    for name, indexes in columns.extra_fields.items():
        found = columns.first(cells, indexes)
        if found is not None:
            extra[name] = found[1]
    for index, name in columns.unknown.items():
        text = cells[index].strip()
        if text and mapping.extra_columns == "reject":
            errors.append(f"unknown column {name!r} has a value (extra_columns: reject)")
        elif text:
            extra[name] = text
    if errors:
        raise ValueError("; ".join(errors))
    for name, value in mapping.constants.items():
        line.setdefault(name, value)
    if extra:
        line["extra"] = extra
    try:
        Declaration.model_validate(line)
    except ValidationError as exc:
        raise ValueError(_describe(exc, columns)) from exc
    return line


@dataclass(slots=True)
class LineCounter:
    """Line numbers for layouts without a line-number column: rows counted per declaration.

    Every row that names a declaration counts, valid or not, so a refused row does not
    shift the numbers of the rows after it.
    """

    seen: dict[str, int] = field(default_factory=dict)

    def count(self, declaration_id: str) -> int:
        self.seen[declaration_id] = self.seen.get(declaration_id, 0) + 1
        return self.seen[declaration_id]


@dataclass(frozen=True, slots=True)
class MappedRow:
    """A row with its canonical line, or the reason it was refused."""

    row: Row
    line: dict[str, Any] | None
    error: str | None


def map_rows(tabular: TabularFile, mapping: Mapping) -> Iterator[MappedRow]:
    """Map every row of a file, numbering lines per declaration when the layout has none.

    Raises ValueError before the first row when the header lacks a required field.
    """
    columns = resolve_header(tabular.header, mapping)
    return _map_rows(tabular.rows, columns, mapping)


def _map_rows(rows: Iterator[Row], columns: HeaderMap, mapping: Mapping) -> Iterator[MappedRow]:
    counter = LineCounter()
    for row in rows:
        declaration_id = columns.value(row.cells, "declaration_id")
        declaration_id = declaration_id or mapping.constants.get("declaration_id")
        fallback = counter.count(declaration_id) if declaration_id else 1
        try:
            line = map_row(columns, row.cells, mapping, fallback)
        except ValueError as exc:
            yield MappedRow(row=row, line=None, error=str(exc))
        else:
            yield MappedRow(row=row, line=line, error=None)
