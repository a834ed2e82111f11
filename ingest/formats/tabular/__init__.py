"""Pure parsers for tabular customs exports (CSV/TSV, .xlsx) driven by mapping files.

``read_csv``/``read_xlsx`` split a file into a header and rows (each with its raw bytes);
``resolve_header`` and ``map_row`` turn rows into canonical declaration lines as a
:class:`schemas.mapping.Mapping` directs. No I/O beyond the bytes or path handed in.
"""

from ingest.formats.tabular.encoding import detect_encoding
from ingest.formats.tabular.mapper import (
    HeaderMap,
    LineCounter,
    MappedRow,
    map_row,
    map_rows,
    resolve_header,
)
from ingest.formats.tabular.reader import Row, TabularFile, read_csv, read_xlsx

__all__ = [
    "HeaderMap",
    "LineCounter",
    "MappedRow",
    "Row",
    "TabularFile",
    "detect_encoding",
    "map_row",
    "map_rows",
    "read_csv",
    "read_xlsx",
    "resolve_header",
]
