"""Connector for files of canonical declaration lines, one JSON object per line.

Each non-blank line is published byte for byte; validation happens in the stream's
``parse`` stage, so a malformed line reaches the dead-letter topic instead of vanishing.

The file is read line by line, never whole, so its size is bounded by
``ingest.max_streamed_file_bytes`` and its memory by its longest line: a line longer than
``ingest.max_line_bytes`` is found while the file's checksum is computed, before anything
is published, and the file is refused whole with the line's number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from ingest.connectors.base import OriginFeed
from ingest.connectors.files import open_input
from ingest.errors import FileRejected
from schemas.raw import RawRecord, read_record
from schemas.settings import IngestSettings

CHUNK_BYTES = 1 << 20
"""The checksum's read size: at most ``ingest.max_line_bytes`` (whose floor is 1 MiB)."""


class JsonlConnector:
    name: ClassVar[str] = "jsonl"

    def __init__(self, path: Path, source: str, limits: IngestSettings | None = None) -> None:
        self.path = path
        self.source = source
        self.limits = limits or IngestSettings()
        self.blank_lines = 0

    def checksum(self) -> str:
        """SHA-256 of the file, hex; refused if a line is longer than ``max_line_bytes``.
        The read is in chunks no larger than that limit, so only a line that crosses a
        chunk boundary can be too long, and only its length is counted."""
        digest = hashlib.sha256()
        limit = self.limits.max_line_bytes
        line_no, running = 1, 0  # the current line's number and its bytes so far
        with open_input(self.path, self.limits, streamed=True) as handle:
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                digest.update(chunk)
                first = chunk.find(b"\n")
                if first < 0:
                    running += len(chunk)
                else:
                    running += first
                    if running > limit:
                        break
                    line_no += chunk.count(b"\n")
                    running = len(chunk) - chunk.rfind(b"\n") - 1
                if running > limit:
                    break
        if running > limit:
            raise FileRejected(
                f"{self.path.name}: line {line_no} is over {limit} bytes (ingest.max_line_bytes)"
            )
        return digest.hexdigest()

    def feed(self) -> OriginFeed:
        return OriginFeed(str(self.path), self.checksum(), self.records(), {"format": "jsonl"})

    def records(self) -> Iterator[RawRecord]:
        origin = str(self.path)
        received_at = datetime.now(UTC)
        limit = self.limits.max_line_bytes
        with open_input(self.path, self.limits, streamed=True) as handle:
            # bounded reads: the file may have changed since its checksum was taken (a line's
            # length, as in checksum(), leaves out its newline)
            for position, raw_line in enumerate(iter(lambda: handle.readline(limit + 1), b""), 1):
                if len(raw_line) > limit and not raw_line.endswith(b"\n"):
                    raise FileRejected(
                        f"{self.path.name}: line {position} is over {limit} bytes "
                        "(ingest.max_line_bytes)"
                    )
                payload = raw_line.rstrip(b"\r\n")
                if not payload.strip():
                    self.blank_lines += 1
                    continue
                yield read_record(self.source, origin, position, payload, received_at)
