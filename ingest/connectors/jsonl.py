"""Connector for files of canonical declaration lines, one JSON object per line.

Each non-blank line is published byte for byte; validation happens in the stream's
``parse`` stage, so a malformed line reaches the dead-letter topic instead of vanishing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from ingest.connectors.base import OriginFeed
from ingest.connectors.files import open_input
from schemas.raw import RawRecord, read_record
from schemas.settings import IngestSettings


class JsonlConnector:
    name: ClassVar[str] = "jsonl"

    def __init__(self, path: Path, source: str, limits: IngestSettings | None = None) -> None:
        self.path = path
        self.source = source
        self.limits = limits or IngestSettings()
        self.blank_lines = 0

    def checksum(self) -> str:
        digest = hashlib.sha256()
        with open_input(self.path, self.limits) as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def feed(self) -> OriginFeed:
        return OriginFeed(str(self.path), self.checksum(), self.records(), {"format": "jsonl"})

    def records(self) -> Iterator[RawRecord]:
        origin = str(self.path)
        received_at = datetime.now(UTC)
        with open_input(self.path, self.limits) as handle:
            for position, raw_line in enumerate(handle, start=1):
                payload = raw_line.rstrip(b"\r\n")
                if not payload.strip():
                    self.blank_lines += 1
                    continue
                yield read_record(self.source, origin, position, payload, received_at)
