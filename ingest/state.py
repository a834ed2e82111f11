"""A connector's resume points, one JSON file per raw topic, written atomically.

An entry per origin (``<file path>#<sha256 of the file>``, or an endpoint URL) says up to
which record the broker acknowledged the origin, on which partition and at which offset,
and whether the origin is finished. It is a hint that saves reading the topic: the truth is
the raw topic itself (see :mod:`ingest.resume`), because a connector killed between the
broker's acknowledgement and this file's write must not publish those records again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class OriginState:
    partition: int
    offset: int = -1  # last offset acknowledged for this origin (-1: none yet)
    scan_from: int = 0  # the partition's end when the origin was first seen
    position: int = 0  # last record position acknowledged
    cursor: str | None = None
    done: bool = False


class SourceState:
    """The resume points of the origins published to one raw topic."""

    def __init__(self, state_dir: Path, topic: str) -> None:
        self.path = state_dir / f"{topic}.json"
        self._entries: dict[str, OriginState] = {}
        if self.path.exists():
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            self._entries = {k: OriginState(**v) for k, v in data.items()}

    def get(self, origin_key: str) -> OriginState | None:
        return self._entries.get(origin_key)

    def put(self, origin_key: str, state: OriginState) -> None:
        self._entries[origin_key] = state
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        # No fsync: the file is a hint (the raw topic is the truth, see ingest.resume), so a
        # write lost in a power cut costs a longer read of the topic, never a duplicate.
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump({k: asdict(v) for k, v in self._entries.items()}, handle)
        tmp.replace(self.path)
