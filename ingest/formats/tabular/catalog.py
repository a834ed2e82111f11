"""Mappings by name: the packaged ones, overridden by a folder of your own.

The folder (``CUSTOMS_WATCH_INGEST_MAPPINGS_DIR``) is looked at again when a file in it
changed, so a worker picks up a fixed mapping without a restart — which is what
``customs-watch deadletter replay`` relies on after a mapping fix.
"""

from __future__ import annotations

import threading
from pathlib import Path

from schemas.mapping import Mapping, load_mapping, packaged_mappings


class MappingCatalog:
    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._stamp: tuple[tuple[str, float], ...] = ()
        self._own: dict[str, Mapping] = {}
        self._lock = threading.Lock()

    def _folder_stamp(self) -> tuple[tuple[str, float], ...]:
        if self._folder is None or not self._folder.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime) for p in self._folder.glob("*.yaml")))

    def _refresh(self) -> None:
        stamp = self._folder_stamp()
        if stamp == self._stamp:
            return
        own = {}
        for name, _ in stamp:
            mapping = load_mapping(self._folder / name)  # type: ignore[operator]
            own[mapping.name] = mapping
        self._own, self._stamp = own, stamp

    def names(self) -> list[str]:
        with self._lock:
            self._refresh()
            return sorted({*packaged_mappings(), *self._own})

    def __call__(self, name: str) -> Mapping:
        """The mapping called ``name``; raises KeyError naming the known ones."""
        with self._lock:
            self._refresh()
            found = self._own.get(name) or packaged_mappings().get(name)
        if found is None:
            raise KeyError(f"no mapping named {name!r}; known: {', '.join(self.names())}")
        return found
