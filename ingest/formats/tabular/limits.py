"""Limits on reading one tabular file, so a hostile file is refused instead of read for
minutes or into all memory: the zip entries of an .xlsx (declared uncompressed size and
compression ratio, checked before anything is decompressed), rows, columns and read time.

Python's :mod:`zipfile` never inflates an entry past the size it declares, so checking the
declared sizes bounds what openpyxl can read.
"""

from __future__ import annotations

import time
import zipfile
from typing import IO

from schemas.settings import IngestSettings

RATIO_FLOOR_BYTES = 1 << 20
"""Entries smaller than this are not held to the ratio: tiny XML parts compress very well."""


class ReadRefused(ValueError):
    """The file is past a reading limit: refused whatever mapping would read it."""


def check_zip(archive: IO[bytes], limits: IngestSettings) -> None:
    """Refuse a zip whose entries declare more than the limits allow."""
    with zipfile.ZipFile(archive) as found:
        for entry in found.infolist():
            if entry.file_size > limits.max_zip_entry_bytes:
                raise ReadRefused(
                    f"zip entry {entry.filename} declares {entry.file_size} bytes uncompressed, "
                    f"over the limit of {limits.max_zip_entry_bytes} (ingest.max_zip_entry_bytes)"
                )
            if entry.file_size > RATIO_FLOOR_BYTES:
                ratio = entry.file_size / max(entry.compress_size, 1)
                if ratio > limits.max_zip_ratio:
                    raise ReadRefused(
                        f"zip entry {entry.filename} inflates {ratio:.0f} times, over the limit "
                        f"of {limits.max_zip_ratio:g} (ingest.max_zip_ratio): a zip bomb?"
                    )
    archive.seek(0)


def check_row(number: int, width: int, limits: IngestSettings) -> None:
    """Refuse a row past the row or column limit."""
    if number > limits.max_rows:
        raise ReadRefused(f"row {number} is past the limit of {limits.max_rows} (ingest.max_rows)")
    if width > limits.max_columns:
        raise ReadRefused(
            f"row {number} has {width} cells, over the limit of {limits.max_columns} "
            "(ingest.max_columns)"
        )


class Deadline:
    """Refuses the read once ``limits.max_read_s`` have passed since it started."""

    def __init__(self, limits: IngestSettings) -> None:
        self.limit_s = limits.max_read_s
        self.until = time.monotonic() + limits.max_read_s

    def check(self, where: str) -> None:
        if time.monotonic() > self.until:
            raise ReadRefused(
                f"reading took over {self.limit_s:g} s (ingest.max_read_s), stopped at {where}"
            )
