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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.connectors.base import OriginFeed
from ingest.connectors.cusdec import CusdecConnector
from ingest.connectors.jsonl import JsonlConnector
from ingest.connectors.tabular import TabularConnector, format_of
from ingest.errors import FileRejected
from ingest.formats.tabular.catalog import MappingCatalog
from ingest.formats.tabular.mapper import resolve_header
from ingest.formats.tabular.reader import read_csv, read_xlsx
from schemas.mapping import Mapping

log = logging.getLogger(__name__)
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt")


@dataclass(slots=True)
class WatchSummary:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _fits(path: Path, mapping: Mapping) -> bool:
    try:
        data = path.read_bytes()
        tabular = read_xlsx(data, mapping) if path.suffix.lower() == ".xlsx" else None
        if tabular is None:
            if mapping.format == "xlsx":
                return False
            tabular = read_csv(data, mapping)
        resolve_header(tabular.header, mapping)
    except ValueError:
        return False
    return True


def choose_mapping(path: Path, catalog: MappingCatalog, given: str | None) -> Mapping:
    """The given mapping, else the only one whose required columns the header has."""
    if given:
        return catalog(given)
    fitting = [catalog(name) for name in catalog.names() if _fits(path, catalog(name))]
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        raise FileRejected(f"{path.name}: no mapping fits its header; pass --mapping")
    names = ", ".join(m.name for m in fitting)
    raise FileRejected(f"{path.name}: several mappings fit its header ({names}); pass --mapping")


def feed_of(path: Path, source: str, catalog: MappingCatalog, mapping: str | None) -> OriginFeed:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return JsonlConnector(path, source).feed()
    if suffix in (".edi", ".edifact", ".cusdec"):
        return CusdecConnector(path, source).feed()
    fmt = format_of(path)
    if fmt is None:
        raise FileRejected(f"{path.name}: no connector reads {suffix or 'files without a suffix'}")
    return TabularConnector(path, source, choose_mapping(path, catalog, mapping), fmt).feed()


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stamp = time.strftime("%Y%m%dT%H%M%S")
    return folder / f"{Path(name).stem}.{stamp}{Path(name).suffix}"


class FolderWatcher:
    def __init__(
        self,
        folder: Path,
        publish: Callable[[OriginFeed], object],
        reject: Callable[[Path, str], None],
        source: str,
        catalog: MappingCatalog,
        mapping: str | None = None,
    ) -> None:
        self.folder = folder
        self.done = folder / "done"
        self.failed = folder / "failed"
        self._publish = publish
        self._reject = reject
        self._source = source
        self._catalog = catalog
        self._mapping = mapping
        self._seen: dict[Path, tuple[int, float]] = {}
        for sub in (self.done, self.failed):
            sub.mkdir(parents=True, exist_ok=True)

    def ready(self, settle: bool = True) -> list[Path]:
        """Files whose size and mtime did not change since the previous call."""
        found: dict[Path, tuple[int, float]] = {}
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            if path.name.endswith(IGNORED_SUFFIXES):
                continue
            stat = path.stat()
            found[path] = (stat.st_size, stat.st_mtime)
        stable = [p for p, sig in found.items() if not settle or self._seen.get(p) == sig]
        self._seen = found
        return stable

    def handle(self, path: Path, summary: WatchSummary) -> None:
        try:
            feed = feed_of(path, self._source, self._catalog, self._mapping)
            self._publish(feed)
        except (FileRejected, KeyError) as exc:
            reason = str(exc).strip("'\"")
            target = _free_name(self.failed, path.name)
            path.replace(target)
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n")
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
