"""Start a stream process's ``/metrics``, ``/healthz``, ``/readyz`` endpoint
(``ingest.metrics.MetricsEndpoint``) and the thread that measures its consumer group's lag."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Literal

from ingest.broker.admin import group_lag
from ingest.metrics import MetricsEndpoint, Ready

__all__ = ["LagPoller", "MetricsEndpoint", "start_endpoint"]
from schemas.settings import Settings
from stream.metrics.definitions import CONSUMER_LAG, CONSUMER_LAG_POLLS

log = logging.getLogger(__name__)

Process = Literal["worker", "sink", "console"]


def start_endpoint(
    settings: Settings,
    process: Process,
    ready: Ready,
    alive: Callable[[], bool] = lambda: True,
) -> MetricsEndpoint | None:
    """The process's endpoint on its port (CUSTOMS_WATCH_METRICS_<PROCESS>_PORT), or None
    when metrics are off (the default)."""
    m = settings.metrics
    if not m.enabled:
        return None
    port = {"worker": m.worker_port, "sink": m.sink_port, "console": m.console_port}[process]
    return MetricsEndpoint(m.host, port, ready, alive).start()


class LagPoller:
    """Every ``interval_s``, the group's lag per topic into
    ``customs_watch_consumer_lag_messages`` (kafka-python admin calls, on a daemon thread)."""

    def __init__(self, settings: Settings, group: str, topics: list[str]) -> None:
        self._settings, self._group, self._topics = settings, group, topics
        self._interval_s = settings.metrics.lag_interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-poller", daemon=True)

    def start(self) -> LagPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def poll_once(self) -> None:
        try:
            lag = group_lag(self._settings, self._group, self._topics)
        except Exception as exc:  # the broker away for a while: keep the last values
            CONSUMER_LAG_POLLS.labels(self._group, "failed").inc()
            log.debug("lag poll failed", extra={"group": self._group, "error": str(exc)})
            return
        for topic, messages in lag.items():
            CONSUMER_LAG.labels(self._group, topic).set(messages)
        CONSUMER_LAG_POLLS.labels(self._group, "ok").inc()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self.poll_once()
            self._stopped.wait(self._interval_s)
