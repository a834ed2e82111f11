"""Connectors for tabular exports: CSV/TSV files and .xlsx workbooks, read with a mapping.

Each data row is published as received: a CSV row's exact bytes (in the file's encoding,
which travels with the batch), an .xlsx row's cells as a JSON array. The header is checked
against the mapping before anything is published — a file whose header lacks a required
column is refused whole (:class:`FileRejected`) — but rows are mapped in the stream, so a
fixed mapping can read the raw records again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Literal

from ingest.connectors.base import OriginFeed
from ingest.connectors.files import read_input
from ingest.errors import FileRejected
from ingest.formats.tabular.mapper import HeaderMap, LineCounter, resolve_header
from ingest.formats.tabular.reader import TabularFile, read_csv, read_xlsx
from schemas.mapping import Mapping
from schemas.raw import RawRecord, read_record
from schemas.settings import IngestSettings

TabularFormat = Literal["csv", "xlsx"]


def format_of(path: Path) -> TabularFormat | None:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    return None


class TabularConnector:
    name: ClassVar[str] = "tabular"

    def __init__(
        self,
        path: Path,
        source: str,
        mapping: Mapping,
        fmt: TabularFormat | None = None,
        encoding: str | None = None,
        sheet: str | None = None,
        limits: IngestSettings | None = None,
        data: bytes | None = None,
    ) -> None:
        self.path = path
        self.source = source
        self.mapping = mapping
        self.format: TabularFormat = fmt or format_of(path) or "csv"
        limits = limits or IngestSettings()
        data = read_input(path, limits) if data is None else data
        self.checksum = hashlib.sha256(data).hexdigest()
        try:
            if self.format == "xlsx":
                self._file: TabularFile = read_xlsx(data, mapping, sheet, limits)
            else:
                # Rows are only forwarded; cells are needed to number lines per declaration
                # when the layout has no line-number column.
                cells = not mapping.line_no_column
                self._file = read_csv(data, mapping, encoding, cells=cells, limits=limits)
            self._columns: HeaderMap = resolve_header(self._file.header, mapping)
        except ValueError as exc:
            raise FileRejected(f"{path.name}: {exc}") from exc

    @property
    def encoding(self) -> str:
        return self._file.encoding

    def records(self) -> Iterator[RawRecord]:
        origin = str(self.path)
        received_at = datetime.now(UTC)
        counter = LineCounter()
        ids = self._columns.fields.get("declaration_id", ())
        for row in self._file.rows:
            found = self._columns.first(row.cells, ids) if row.cells else None
            sequence = counter.count(found[1]) if found else 1
            yield read_record(self.source, origin, row.number, row.raw, received_at, sequence)

    def feed(self) -> OriginFeed:
        context = {
            "format": self.format,
            "mapping": self.mapping.name,
            "encoding": self.encoding if self.format == "csv" else None,
            "header": list(self._file.header),
        }
        return OriginFeed(str(self.path), self.checksum, self.records(), context)
