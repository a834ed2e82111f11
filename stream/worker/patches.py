"""The worker's patches and reads of private faust-streaming / aiokafka internals, in one place.

Each one reaches past the public API, so each names the versions it was checked on and
:func:`check_patches` (called by the worker process before anything starts) fails loudly,
naming the patch and what is missing, when an upgrade moved what it relies on. The unit
tests in ``tests/unit/stream/test_patches.py`` pin the same shapes.

1. :func:`as_current_event` sets faust's current-event context variable
   (``faust.streams._current_event``), which faust sets itself only when a stream is iterated
   event by event: a table write goes to the changelog partition of the current event, and
   the agents handle the groups that ``take_events`` hands over one event at a time.
2. :func:`patch_highwaters` wraps ``AIOKafkaConsumerThread._highwaters``, which decides when a
   changelog is recovered. Tansu 0.6 (the local broker) reports a partition's latest offset as
   the base offset of its last record batch plus one (see ``ingest/broker/reader.py``), so the
   records after the first of a changelog's last batch would be skipped and a restarted worker
   would lose that state. The wrapper raises each reported end to the true log end, found by
   reading the last batch with kafka-python; on Apache Kafka both agree and the probe costs one
   small fetch per changelog partition at start-up.
3. :func:`patch_fetch_wait` replaces ``aiokafka.AIOKafkaConsumer`` with a subclass that swaps
   the ``fetch_max_wait_ms=1500`` faust hard-codes for its worker consumer with
   ``kafka.fetch_max_wait_ms``. A Kafka broker answers a waiting fetch as soon as records
   arrive, so the value only bounds idle polls there; Tansu 0.6 lets the fetch wait the full
   time, which put ~1.3 s of latency on every hop of the pipeline (``bench/alert_latency.py``).
4. :func:`consumer_views` reads what faust's consumer knows of each stream partition (its
   committed and delivered offsets, the records it holds unacknowledged or queued for an
   agent) for the stalled-commit watch (``stream/worker/stalls.py``); a read, not a patch.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from typing import Any

import aiokafka
from faust import channels as faust_channels
from faust import streams as faust_streams
from faust.tables import base as faust_tables
from faust.transport import conductor as faust_conductor
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from kafka import TopicPartition

from ingest.broker.reader import log_end_offsets, new_consumer
from schemas.errors import TerminalError
from schemas.settings import Settings
from stream.worker.stalls import PartitionView

log = logging.getLogger(__name__)

# Checked on faust-streaming 0.15.3 with aiokafka 0.14.0; pyproject.toml pins faust-streaming
# to this minor range. aiokafka is used through public API only (the consumer's constructor).
FAUST_CHECKED = ((0, 15), "faust-streaming >=0.15.3,<0.16")
AIOKAFKA_CHECKED = "aiokafka 0.14.0"
FAUST_FIXED_WAIT_MS = 1500


class PatchOutdated(TerminalError):
    """An installed faust-streaming no longer has what one of the worker's patches relies on."""


# --- 1. the current event ------------------------------------------------------------------


@contextmanager
def as_current_event(event: Any) -> Iterator[None]:
    """Make ``event`` faust's current event for the block (table writes follow it)."""
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


def _current_event_problems() -> list[str]:
    var = getattr(faust_streams, "_current_event", None)
    if not isinstance(var, contextvars.ContextVar):
        return ["faust.streams._current_event is gone or no longer a ContextVar"]
    reader = getattr(faust_streams, "current_event", None)
    if reader is None or getattr(faust_tables, "current_event", None) is not reader:
        return ["faust tables no longer read faust.streams.current_event()"]
    return []


# --- 2. changelog highwaters ---------------------------------------------------------------


def true_ends(settings: Settings, partitions: list[TP]) -> dict[TP, int]:
    """Offset after the last record of each partition, read with kafka-python."""
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


def _highwaters_problems() -> list[str]:
    thread_class = getattr(faust_aiokafka, "AIOKafkaConsumerThread", None)
    method = getattr(thread_class, "_highwaters", None)
    if method is None:
        return ["faust's AIOKafkaConsumerThread._highwaters is gone"]
    if not inspect.iscoroutinefunction(method):
        return ["AIOKafkaConsumerThread._highwaters is no longer a coroutine function"]
    if list(inspect.signature(method).parameters) != ["self", "partitions"]:
        return [f"AIOKafkaConsumerThread._highwaters{inspect.signature(method)} changed"]
    if "self._highwaters" not in _source(getattr(thread_class, "highwaters", None)):
        return ["AIOKafkaConsumerThread.highwaters no longer calls self._highwaters"]
    return []


# --- 3. the consumer's fetch wait ----------------------------------------------------------


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


WORKER_CONSUMER = "faust's AIOKafkaConsumerThread._create_worker_consumer"


def _fetch_wait_problems() -> list[str]:
    thread_class = getattr(faust_aiokafka, "AIOKafkaConsumerThread", None)
    source = _source(getattr(thread_class, "_create_worker_consumer", None))
    if "aiokafka.AIOKafkaConsumer(" not in source:
        return [f"{WORKER_CONSUMER} is gone or no longer calls aiokafka.AIOKafkaConsumer(...)"]
    if f"fetch_max_wait_ms={FAUST_FIXED_WAIT_MS}" not in source:
        return [f"{WORKER_CONSUMER} no longer passes fetch_max_wait_ms={FAUST_FIXED_WAIT_MS}"]
    original = next(
        cls
        for cls in aiokafka.AIOKafkaConsumer.__mro__
        if "_customs_watch_wait_ms" not in vars(cls)
    )
    if "fetch_max_wait_ms" not in inspect.signature(original).parameters:
        return ["aiokafka.AIOKafkaConsumer() no longer takes fetch_max_wait_ms"]
    return []


# --- 4. what the consumer holds of each partition ------------------------------------------

CONSUMER_FIELDS = ("_committed_offset", "_read_offset", "_unacked_messages")


def consumer_views(app: Any) -> dict[TP, PartitionView]:
    """Each assigned stream partition (changelogs left out): committed offset, highest
    delivered offset, and whether a record of it is unacknowledged or waits in a queue."""
    consumer = app.consumer
    changelogs = set(app.tables.changelog_topics)
    committed = consumer._committed_offset
    held: set[TP] = {  # a record below the commit, if one stayed unacked, holds nothing back
        m.tp
        for m in list(consumer._unacked_messages)
        if not m.acked and m.offset >= (committed.get(m.tp) or 0)
    }
    for tp, channels in list(app.topics._tp_index.items()):
        for channel in list(channels):
            queue = getattr(channel, "_queue", None)  # the queue exists once an agent read it
            if queue is not None and any(event.message.tp == tp for event in list(queue._queue)):
                held.add(tp)
                break
    return {
        tp: PartitionView(
            committed=committed.get(tp),
            delivered=consumer._read_offset.get(tp),
            pending=tp in held,
        )
        for tp in consumer.assignment()
        if tp.topic not in changelogs
    }


def _views_problems() -> list[str]:
    problems = []
    fields = getattr(faust_consumer.Consumer, "__annotations__", {})
    problems += [
        f"faust's Consumer.{name} is gone" for name in CONSUMER_FIELDS if name not in fields
    ]
    if "_tp_index" not in getattr(faust_conductor.Conductor, "__annotations__", {}):
        problems.append("faust's Conductor._tp_index is gone")
    seek = getattr(faust_consumer.Consumer, "seek", None)
    if not inspect.iscoroutinefunction(seek) or list(inspect.signature(seek).parameters) != [
        "self",
        "partition",
        "offset",
    ]:
        problems.append("faust's Consumer.seek(partition, offset) changed")
    queue = getattr(faust_channels.Channel, "queue", None)
    if "self._queue" not in _source(getattr(queue, "fget", None)):
        problems.append("faust's Channel no longer keeps its queue in self._queue")
    return problems


# --- the start-up check --------------------------------------------------------------------


def _source(function: Any) -> str:
    try:
        return inspect.getsource(function) if function is not None else ""
    except (OSError, TypeError):
        return ""


def _minor(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return ()


def check_patches() -> None:
    """Raise :class:`PatchOutdated` naming every patch whose target moved; warn when the
    installed faust-streaming is outside the range the patches were checked on."""
    installed = metadata.version("faust-streaming")
    checked_minor, checked = FAUST_CHECKED
    problems = [
        f"{name}: {problem}"
        for name, found in (
            ("current event (as_current_event)", _current_event_problems()),
            ("changelog highwaters (patch_highwaters)", _highwaters_problems()),
            ("fetch wait (patch_fetch_wait)", _fetch_wait_problems()),
            ("consumer views (consumer_views)", _views_problems()),
        )
        for problem in found
    ]
    if problems:
        raise PatchOutdated(
            f"faust-streaming {installed} (aiokafka {metadata.version('aiokafka')}) lacks "
            f"what the worker's patches in stream/worker/patches.py rely on; they were checked "
            f"on {checked} with {AIOKAFKA_CHECKED}: " + "; ".join(problems)
        )
    if _minor(installed) != checked_minor:
        log.warning(
            "faust-streaming outside the checked range of the worker's patches",
            extra={"installed": installed, "checked": checked},
        )
