"""A connector's resume points, one JSON file per raw topic, written atomically.

An entry per origin (``<file path>#<sha256 of the file>``, or an endpoint URL) says up to
which record the broker acknowledged the origin, on which partition and at which offset,
and whether the origin is finished. It is a hint that saves reading the topic: the truth is
the raw topic itself (see :mod:`ingest.resume`), because a connector killed between the
broker's acknowledgement and this file's write must not publish those records again; an
origin with no entry (a lost state folder) is looked up on its partition from the start.

One connector at a time per file: :class:`SourceState` holds an exclusive ``flock`` on
``<topic>.lock`` beside it until :meth:`SourceState.close`, and a second connector on the
same source gets :class:`ingest.errors.SourceBusy` instead of overwriting the entries.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingest.errors import SourceBusy


@dataclass(slots=True)
class OriginState:
    partition: int
    offset: int = -1  # last offset acknowledged for this origin (-1: none yet)
    scan_from: int = 0  # the partition's end when the origin was first seen
    position: int = 0  # last record position acknowledged
    cursor: str | None = None
    done: bool = False
    # Offset of the first batch found on the topic past ``position`` (a run that filled a gap,
    # or one after the state was lost): the next resume reads from there (-1: none).
    rescan_from: int = -1


class SourceState:
    """The resume points of the origins published to one raw topic."""

    def __init__(self, state_dir: Path, topic: str) -> None:
        self.path = state_dir / f"{topic}.json"
        self._lock = _lock(state_dir / f"{topic}.lock", topic)
        self._entries: dict[str, OriginState] = {}
        if self.path.exists():
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            self._entries = {k: OriginState(**v) for k, v in data.items()}

    def get(self, origin_key: str) -> OriginState | None:
        return self._entries.get(origin_key)

    def put(self, origin_key: str, state: OriginState) -> None:
        self._entries[origin_key] = state
        self._write()

    def close(self) -> None:
        """Let another connector take the source (closing the file drops the lock)."""
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        # No fsync: the file is a hint (the raw topic is the truth, see ingest.resume), so a
        # write lost in a power cut costs a longer read of the topic, never a duplicate.
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump({k: asdict(v) for k, v in self._entries.items()}, handle)
        tmp.replace(self.path)


def _lock(path: Path, topic: str) -> int:
    """An exclusive, non-blocking ``flock`` on ``path``, holding this process's id; the OS
    drops it when the process dies, so a killed connector never leaves a stale lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        raise SourceBusy(
            f"another connector (pid {holder}) is publishing to {topic} with the resume points "
            f"in {path.parent}; run one connector per source at a time"
        ) from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
