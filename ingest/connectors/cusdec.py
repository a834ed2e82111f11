"""Connector for UN/EDIFACT CUSDEC interchanges: one raw record per message (UNH…UNT).

Each message is published with its exact bytes; the batch carries the service characters
and the character set, and the stream reads the goods items (``stream/cusdec/goods.py``).
Interchange-level problems (no UNB, UNZ counting other than the messages found) are
reported by :attr:`CusdecConnector.problems`; a malformed message is still published, so
the stream dead-letters it with the reason and its bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from ingest.connectors.base import OriginFeed
from ingest.connectors.files import read_input
from ingest.errors import FileRejected
from ingest.formats.cusdec.split import split_interchange
from schemas.raw import RawRecord, payload_checksum
from schemas.settings import IngestSettings


class CusdecConnector:
    name: ClassVar[str] = "cusdec"

    def __init__(self, path: Path, source: str, limits: IngestSettings | None = None) -> None:
        self.path = path
        self.source = source
        data = read_input(path, limits or IngestSettings())
        self.checksum = hashlib.sha256(data).hexdigest()
        self.interchange = split_interchange(data)
        if not self.interchange.messages:
            problems = "; ".join(self.interchange.errors) or "no UNH…UNT message in it"
            raise FileRejected(f"{path.name}: not a CUSDEC interchange: {problems}")

    @property
    def problems(self) -> list[str]:
        return list(self.interchange.errors)

    def records(self) -> Iterator[RawRecord]:
        received_at = datetime.now(UTC)
        for message in self.interchange.messages:
            yield RawRecord(
                source=self.source,
                origin=str(self.path),
                position=message.index,
                payload=message.raw,
                checksum=payload_checksum(message.raw),
                received_at=received_at,
            )

    def feed(self) -> OriginFeed:
        context = {
            "format": "cusdec",
            "encoding": self.interchange.charset,
            "edifact_service": self.interchange.service,
        }
        return OriginFeed(str(self.path), self.checksum, self.records(), context)
