"""Directory watch: publish every file dropped in a folder, then move it to done/ or failed/.

A file is taken when its size and modification time stayed the same for one whole interval
(a copy still being written is left alone); hidden files and ``*.part``/``*.tmp`` are
ignored. Its format comes from the extension (``.jsonl``, ``.csv``/``.tsv``/``.txt``,
``.xlsx``, ``.edi``/``.edifact`` for CUSDEC); a tabular file's mapping is the one given,
else the only packaged or own mapping whose required columns its header has. Publishing
resumes exactly once (``ingest/run.py``), so a watcher killed midway and started again
finishes the file without duplicates, then moves it. Moves are renames inside the watched
folder (atomic); a refused file goes to ``failed/`` with ``<name>.reason.txt`` next to it,
and a dead letter says why.

Hostile files are refused the same way, never followed or read without bounds: a symbolic
link (or a FIFO, a device) is moved to ``failed/`` as the link itself, its target untouched;
files are read within the ``ingest.max_*`` limits; whatever a reader raises becomes the
refusal (:func:`ingest.connectors.files.read_guarded`); ``done/``, ``failed/`` and reason
files are never written through a link.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.connectors.base import OriginFeed
from ingest.connectors.cusdec import CusdecConnector
from ingest.connectors.files import read_guarded, read_input
from ingest.connectors.jsonl import JsonlConnector
from ingest.connectors.tabular import TabularConnector, format_of
from ingest.errors import FileRejected, FolderRefused
from ingest.formats.tabular.catalog import MappingCatalog
from ingest.formats.tabular.limits import ReadRefused
from ingest.formats.tabular.mapper import resolve_header
from ingest.formats.tabular.reader import read_csv, read_xlsx
from schemas.mapping import Mapping
from schemas.settings import IngestSettings

log = logging.getLogger(__name__)
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt")


@dataclass(slots=True)
class WatchSummary:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _fits(path: Path, data: bytes, mapping: Mapping, limits: IngestSettings) -> bool:
    """Whether the mapping reads the file's header; a limit the file passes is raised."""
    try:
        if path.suffix.lower() == ".xlsx":
            tabular = read_xlsx(data, mapping, limits=limits)
        elif mapping.format == "xlsx":
            return False
        else:
            tabular = read_csv(data, mapping, limits=limits)
        resolve_header(tabular.header, mapping)
    except ReadRefused as exc:
        raise FileRejected(f"{path.name}: {exc}") from exc
    except ValueError:
        return False
    return True


def choose_mapping(
    path: Path,
    catalog: MappingCatalog,
    given: str | None,
    limits: IngestSettings | None = None,
    data: bytes | None = None,
) -> Mapping:
    """The given mapping, else the only one whose required columns the header has."""
    if given:
        return catalog(given)
    limits = limits or IngestSettings()
    data = read_input(path, limits) if data is None else data
    fitting = [
        catalog(name) for name in catalog.names() if _fits(path, data, catalog(name), limits)
    ]
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        raise FileRejected(f"{path.name}: no mapping fits its header; pass --mapping")
    names = ", ".join(m.name for m in fitting)
    raise FileRejected(f"{path.name}: several mappings fit its header ({names}); pass --mapping")


def feed_of(
    path: Path,
    source: str,
    catalog: MappingCatalog,
    mapping: str | None,
    limits: IngestSettings | None = None,
) -> OriginFeed:
    limits = limits or IngestSettings()
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return JsonlConnector(path, source, limits).feed()
    if suffix in (".edi", ".edifact", ".cusdec"):
        return CusdecConnector(path, source, limits).feed()
    fmt = format_of(path)
    if fmt is None:
        raise FileRejected(f"{path.name}: no connector reads {suffix or 'files without a suffix'}")
    data = read_input(path, limits)
    chosen = choose_mapping(path, catalog, mapping, limits, data)
    return TabularConnector(path, source, chosen, fmt, limits=limits, data=data).feed()


def _taken(path: Path) -> bool:
    return os.path.lexists(path) or os.path.lexists(f"{path}.reason.txt")


def _free_name(folder: Path, name: str) -> Path:
    """A name in ``folder`` that nothing (not even a dangling link) holds, nor its reason file."""
    target = folder / name
    stamp = time.strftime("%Y%m%dT%H%M%S")
    n = 0
    while _taken(target):
        n += 1
        target = folder / f"{Path(name).stem}.{stamp}{f'-{n}' if n > 1 else ''}{Path(name).suffix}"
    return target


def _write_new(path: Path, text: str) -> None:
    """Create ``path`` and write ``text``; fails rather than write through anything there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _own_folder(path: Path) -> Path:
    """``path`` as a real folder (created when missing); a link there is refused."""
    if path.is_symlink():
        raise FolderRefused(f"{path} is a symbolic link: the watcher writes only in real folders")
    path.mkdir(parents=True, exist_ok=True)
    return path


class FolderWatcher:
    def __init__(
        self,
        folder: Path,
        publish: Callable[[OriginFeed], object],
        reject: Callable[[Path, str], None],
        source: str,
        catalog: MappingCatalog,
        mapping: str | None = None,
        limits: IngestSettings | None = None,
    ) -> None:
        self.folder = folder
        self.done = _own_folder(folder / "done")
        self.failed = _own_folder(folder / "failed")
        self._publish = publish
        self._reject = reject
        self._source = source
        self._catalog = catalog
        self._mapping = mapping
        self._limits = limits or IngestSettings()
        self._seen: dict[Path, tuple[int, float]] = {}

    def ready(self, settle: bool = True) -> list[Path]:
        """Files whose size and mtime did not change since the previous call."""
        found: dict[Path, tuple[int, float]] = {}
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or path.name.endswith(IGNORED_SUFFIXES):
                continue
            try:
                status = path.lstat()  # a link is taken as itself, and refused
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(status.st_mode):
                continue
            found[path] = (status.st_size, status.st_mtime)
        stable = [p for p, sig in found.items() if not settle or self._seen.get(p) == sig]
        self._seen = found
        return stable

    def handle(self, path: Path, summary: WatchSummary) -> None:
        try:
            feed = read_guarded(
                path,
                lambda: feed_of(path, self._source, self._catalog, self._mapping, self._limits),
            )
            self._publish(feed)
        except FileRejected as exc:
            reason = str(exc)
            target = _free_name(self.failed, path.name)
            path.replace(target)
            _write_new(target.with_name(target.name + ".reason.txt"), reason + "\n")
            self._reject(target, reason)
            summary.failed.append(path.name)
            log.warning("file refused", extra={"file": path.name, "reason": reason})
            return
        path.replace(_free_name(self.done, path.name))
        summary.done.append(path.name)
        log.info("file published", extra={"file": path.name})

    def run(self, interval_s: float, once: bool, stop: Callable[[], bool]) -> WatchSummary:
        """Handle files until ``stop()``; with ``once``, what is there now, then return."""
        summary = WatchSummary()
        if once:
            for path in self.ready(settle=False):
                self.handle(path, summary)
            return summary
        while not stop():
            for path in self.ready():
                self.handle(path, summary)
            time.sleep(interval_s)
        return summary
