"""Rows/s feedback for long reads: a rich bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

log = logging.getLogger(__name__)


class ProgressSink:
    """Rows/s feedback: a rich progress bar on a terminal, periodic log lines otherwise."""

    def __init__(self, label: str, total: int | None = None, every_s: float = 5.0) -> None:
        self.label = label
        self.count = 0
        self._every_s = every_s
        self._started = self._last = time.monotonic()
        self._bar: Any = None
        if sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rows/s"),
                TimeElapsedColumn(),
                transient=False,
            )
            self._task = self._bar.add_task(label, total=total, rate="-")
            self._bar.start()

    def advance(self, n: int) -> None:
        self.count += n
        now = time.monotonic()
        rate = self.count / max(now - self._started, 1e-9)
        if self._bar is not None:
            self._bar.update(self._task, advance=n, rate=f"{rate:,.0f}")
        elif now - self._last >= self._every_s:
            self._last = now
            log.info(
                "progress",
                extra={"what": self.label, "rows": self.count, "rows_per_s": round(rate)},
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
