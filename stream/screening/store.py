"""The watchlist folder: validated lists the worker screens against, one file per dataset.

``customs-watch watchlist load`` writes ``<folder>/<dataset>.jsonl`` (one
:class:`WatchlistEntry` per line) to a temporary name and renames it into place, so a reader
never sees half a list. The worker checks the folder's fingerprint (names, sizes, modification
times) every few seconds and, when it changed, builds a new index beside the old one and
swaps it in: a new list version is picked up without a restart.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from schemas.rule_data import ScreeningRules
from schemas.watchlist import WatchlistEntry
from stream.screening.index import WatchlistIndex
from stream.screening.matcher import Screener

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

Fingerprint = tuple[tuple[str, int, int], ...]


def check_dataset_name(name: str) -> str:
    if not _DATASET_NAME.match(name) or name.endswith(SUFFIX):
        raise ValueError(
            f"dataset name {name!r}: use letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def save_list(entries: Iterable[WatchlistEntry], dataset: str, folder: Path) -> tuple[Path, int]:
    """Write a dataset's entries atomically; returns the file and how many were written."""
    check_dataset_name(dataset)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{dataset}{SUFFIX}"
    temporary = folder / f".{dataset}{SUFFIX}.tmp"
    count = 0
    with temporary.open("w", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(entry.model_dump_json(by_alias=True, exclude_defaults=True) + "\n")
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(target)
    return target, count


def remove_list(dataset: str, folder: Path) -> bool:
    target = folder / f"{check_dataset_name(dataset)}{SUFFIX}"
    if not target.exists():
        return False
    target.unlink()
    return True


def list_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*{SUFFIX}") if not p.name.startswith("."))


def fingerprint(folder: Path) -> Fingerprint:
    out = []
    for path in list_files(folder):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while listing
            continue
        out.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def read_saved(path: Path) -> Iterator[WatchlistEntry]:
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                yield WatchlistEntry.model_validate_json(raw)


def load_folder(folder: Path, rules: ScreeningRules) -> WatchlistIndex:
    """One index over every saved dataset in the folder."""

    def entries() -> Iterator[WatchlistEntry]:
        for path in list_files(folder):
            yield from read_saved(path)

    return WatchlistIndex.build(entries(), rules)


class WatchedScreener:
    """The current :class:`Screener` for a folder, rebuilt when the folder changes.

    ``refresh()`` is meant for a background thread or executor: it builds the new index
    without holding any lock the hot path needs, then replaces one reference.
    """

    def __init__(self, folder: Path, rules: ScreeningRules, threshold: float | None = None):
        self.folder = folder
        self.rules = rules
        self.threshold = threshold
        self._lock = threading.Lock()
        self._fingerprint: Fingerprint | None = None
        self.current: Screener | None = None
        self.refresh()

    def refresh(self) -> bool:
        """Rebuild if the folder changed since the last build; True when it was rebuilt."""
        with self._lock:
            seen = fingerprint(self.folder)
            if seen == self._fingerprint:
                return False
            index = load_folder(self.folder, self.rules)
            self.current = Screener(index, self.threshold) if len(index) else None
            self._fingerprint = seen
            log.info(
                "watchlists loaded",
                extra={
                    "folder": str(self.folder),
                    "datasets": ",".join(f"{k}={v}" for k, v in sorted(index.datasets.items())),
                    "entities": len(index),
                    "names": index.name_count,
                },
            )
            return True
