"""Mappings by name: the packaged ones, overridden by a folder of your own.

The folder (``CUSTOMS_WATCH_INGEST_MAPPINGS_DIR``) is looked at again when a file in it
changed, so a worker picks up a fixed mapping without a restart — which is what
``customs-watch deadletter replay`` relies on after a mapping fix. A file that does not load
is set aside on its own: the records naming it (by the file's stem) are refused with its
reason, and every other mapping keeps working.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from schemas.errors import InvalidMapping
from schemas.mapping import Mapping, load_mapping, packaged_mappings

log = logging.getLogger(__name__)


class MappingCatalog:
    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._stamp: tuple[tuple[str, float], ...] = ()
        self._own: dict[str, Mapping] = {}
        self._broken: dict[str, InvalidMapping] = {}  # file stem → why it did not load
        self._lock = threading.Lock()

    def _folder_stamp(self) -> tuple[tuple[str, float], ...]:
        if self._folder is None or not self._folder.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime) for p in self._folder.glob("*.yaml")))

    def _refresh(self) -> None:
        stamp = self._folder_stamp()
        if stamp == self._stamp:
            return
        own, broken = {}, {}
        for name, _ in stamp:
            try:
                mapping = load_mapping(self._folder / name)  # type: ignore[operator]
            except InvalidMapping as exc:
                log.error("mapping file set aside", extra={"file": name, "error": str(exc)})
                broken[Path(name).stem] = exc
                continue
            own[mapping.name] = mapping
        self._own, self._broken, self._stamp = own, broken, stamp

    def names(self) -> list[str]:
        with self._lock:
            self._refresh()
            return sorted({*packaged_mappings(), *self._own})

    def __call__(self, name: str) -> Mapping:
        """The mapping called ``name``; raises KeyError naming the known ones, or the
        InvalidMapping of a file of that name that did not load (it never falls back to a
        packaged mapping the file was meant to replace)."""
        with self._lock:
            self._refresh()
            found = self._own.get(name)
            broken = self._broken.get(name)
        if found is None and broken is not None:
            raise broken
        found = found or packaged_mappings().get(name)
        if found is None:
            raise KeyError(f"no mapping named {name!r}; known: {', '.join(self.names())}")
        return found
