"""Process-wide tuning shared by the long-running processes (worker, sink).

The rules, lexicons and watchlists loaded at start are large, live for the whole process and
hold no cycles worth collecting; without care the cyclic collector walks them again on every
full collection. :func:`tune_gc` moves what exists at start out of the collector's reach
(``gc.freeze``) and raises the thresholds, so collections are rarer and only see new objects.
"""

from __future__ import annotations

import gc


def tune_gc(thresholds: tuple[int, int, int]) -> None:
    """Call once, after the long-lived data is loaded and before records flow."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
