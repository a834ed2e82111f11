"""Opening a dropped or named file as a connector input, and the one guard around reading it.

A file is opened without following a symbolic link (``O_NOFOLLOW``), must be a regular file
and no larger than ``ingest.max_file_bytes`` (``ingest.max_streamed_file_bytes`` for one read
line by line). Whatever a reader library raises on a hostile file (openpyxl's
``ParseError`` on a truncated sheet, a ``MemoryError``, a codec's error…) becomes one
:class:`FileRejected` with the reason, raised by :func:`read_guarded` — both while the
connector opens the file and while its records are read.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ingest.connectors.base import OriginFeed
from ingest.errors import FileRejected
from schemas.raw import RawRecord
from schemas.settings import IngestSettings


def _open_fd(path: Path) -> int:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # NONBLOCK: a FIFO must not hang us
    try:
        return os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRejected(f"{path.name}: a symbolic link, not followed") from exc
        raise


def open_input(path: Path, limits: IngestSettings, streamed: bool = False) -> BinaryIO:
    """The file, opened for reading: refused when a symlink, not a regular file, or too big
    (``streamed``: read piece by piece, never whole, so ``ingest.max_streamed_file_bytes``
    bounds it instead of ``ingest.max_file_bytes``)."""
    fd = _open_fd(path)
    limit, name = (
        (limits.max_streamed_file_bytes, "max_streamed_file_bytes")
        if streamed
        else (limits.max_file_bytes, "max_file_bytes")
    )
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            raise FileRejected(f"{path.name}: not a regular file")
        if found.st_size > limit:
            raise FileRejected(
                f"{path.name}: {found.st_size} bytes, over the limit of {limit} (ingest.{name})"
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: Path, limits: IngestSettings) -> bytes:
    """The whole file (see :func:`open_input`); refused if it grew past the limit meanwhile."""
    with open_input(path, limits) as handle:
        data = handle.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise FileRejected(
            f"{path.name}: over {limits.max_file_bytes} bytes (ingest.max_file_bytes)"
        )
    return data


def head_of(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a regular file; nothing for a symlink or a special file."""
    try:
        fd = _open_fd(path)
    except (FileRejected, OSError):
        return b""
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return b""
        return handle.read(size)


def _reason(path: Path, exc: Exception) -> FileRejected:
    if isinstance(exc, FileRejected):
        return exc
    text = str(exc).strip("'\"") or "no message"
    return FileRejected(f"{path.name}: cannot be read ({type(exc).__name__}: {text})")


def _guarded(path: Path, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
    iterator = iter(records)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            raise _reason(path, exc) from exc
        yield record


def read_guarded(path: Path, build: Callable[[], OriginFeed]) -> OriginFeed:
    """``build()`` the file's feed; any exception raised by building it or by reading its
    records becomes :class:`FileRejected` (errors of whoever consumes the records do not)."""
    try:
        feed = build()
    except Exception as exc:
        raise _reason(path, exc) from exc
    feed.records = _guarded(path, feed.records)
    return feed
