"""Let the worker's consumer wait at most ``kafka.fetch_max_wait_ms`` for new records.

faust builds its stream consumer with a fixed ``fetch_max_wait_ms=1500``. A Kafka broker
answers a waiting fetch as soon as records arrive, so the value only bounds idle polls
there; the local broker (Tansu 0.6) lets the fetch wait the full time, which put ~1.3 s of
latency on every hop of the pipeline (measured by ``bench/alert_latency.py``). This patch
replaces the fixed value with the setting, in the worker process only.
"""

from __future__ import annotations

from typing import Any

import aiokafka

FAUST_FIXED_WAIT_MS = 1500


def patch_fetch_wait(max_wait_ms: int) -> None:
    """Install once; later calls only change the value. faust's driver looks the class up
    on the aiokafka module each time it builds a consumer, so replacing it there works."""
    module: Any = aiokafka
    current = module.AIOKafkaConsumer
    if getattr(current, "_customs_watch_wait_ms", None) is not None:
        current._customs_watch_wait_ms = max_wait_ms
        return

    class Consumer(current):  # type: ignore[misc,valid-type]
        _customs_watch_wait_ms = max_wait_ms

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("fetch_max_wait_ms") == FAUST_FIXED_WAIT_MS:
                kwargs["fetch_max_wait_ms"] = type(self)._customs_watch_wait_ms
            super().__init__(*args, **kwargs)

    module.AIOKafkaConsumer = Consumer
