"""Make faust's table recovery read changelogs to their true end on the local broker.

faust decides that a changelog partition is recovered when it has read up to the
partition's "highwater" (latest offset). Tansu 0.6, the local broker, reports the base
offset of the last record batch plus one instead of the offset after the last record
(see ``stream/topic_reader.py``), so the records after the first one in a changelog's last
batch would be skipped and a restarted worker would lose that state. This patch asks
faust's consumer for the reported highwaters and raises each to the true log end, found by
reading the last batch with kafka-python. On Apache Kafka both agree and the probe only
costs one small fetch per changelog partition at start-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from kafka import TopicPartition

from ingest.broker.reader import log_end_offsets, new_consumer
from schemas.settings import Settings

log = logging.getLogger(__name__)


def true_ends(settings: Settings, partitions: list[TP]) -> dict[TP, int]:
    consumer = new_consumer(settings)
    try:
        probes = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        ends = log_end_offsets(consumer, probes)
        return {TP(tp.topic, tp.partition): end for tp, end in ends.items()}
    finally:
        consumer.close()


def patch_highwaters(settings: Settings) -> None:
    """Install the probe on faust's aiokafka consumer thread (idempotent)."""
    thread_class: Any = faust_aiokafka.AIOKafkaConsumerThread
    if getattr(thread_class, "_customs_watch_patched", False):
        return
    reported_highwaters = thread_class._highwaters

    async def _highwaters(self: Any, partitions: list[TP]) -> Mapping[TP, int]:
        reported = dict(await reported_highwaters(self, partitions))
        if not partitions:
            return reported
        loop = asyncio.get_running_loop()
        probed = await loop.run_in_executor(None, true_ends, settings, list(partitions))
        for tp, end in probed.items():
            if end > (reported.get(tp) or 0):
                log.info(
                    "changelog end corrected",
                    extra={"topic": tp.topic, "partition": tp.partition,
                           "reported": reported.get(tp), "true_end": end},
                )  # fmt: skip
                reported[tp] = end
        return reported

    thread_class._highwaters = _highwaters
    thread_class._customs_watch_patched = True
