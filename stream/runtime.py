"""Process-wide tuning shared by the long-running processes (worker, sink).

The rules, lexicons and watchlists loaded at start are large, live for the whole process and
hold no cycles worth collecting; without care the cyclic collector walks them again on every
full collection. :func:`tune_gc` moves what exists at start out of the collector's reach
(``gc.freeze``) and raises the thresholds, so collections are rarer and only see new objects.

:func:`use_event_loop` picks the event loop the process's asyncio code (faust, aiokafka, the
sink) runs on; it must be called before any loop is made.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Literal


def tune_gc(thresholds: tuple[int, int, int]) -> None:
    """Call once, after the long-lived data is loaded and before records flow."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def use_event_loop(name: Literal["uvloop", "asyncio"]) -> None:
    """Make the loops this process creates from now on uvloop's, or asyncio's own."""
    if name == "asyncio":
        asyncio.set_event_loop_policy(None)
        return
    try:
        import uvloop
    except ImportError as exc:
        raise RuntimeError(
            "the uvloop event loop is not installed here; install uvloop or set "
            "CUSTOMS_WATCH_WORKER_EVENT_LOOP=asyncio"
        ) from exc
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
