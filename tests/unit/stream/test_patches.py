"""Pin the private faust/aiokafka shapes the worker's patches rely on, and what each does."""

import asyncio
import contextvars
import inspect
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import aiokafka
import faust
import pytest
from faust import streams as faust_streams
from faust.tables import base as faust_tables
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from schemas.settings import Settings
from stream.worker import patches
from stream.worker.patches import (
    FAUST_CHECKED,
    FAUST_FIXED_WAIT_MS,
    PatchOutdated,
    as_current_event,
    check_patches,
    patch_fetch_wait,
    patch_highwaters,
)


def test_the_installed_faust_is_the_checked_one_and_passes_the_start_up_check() -> None:
    minor, checked = FAUST_CHECKED
    installed = metadata.version("faust-streaming")
    assert tuple(int(p) for p in installed.split(".")[:2]) == minor, checked
    check_patches()


class Event:
    """Anything weak-referenceable stands for a faust event here."""


def test_as_current_event_sets_what_faust_tables_read() -> None:
    assert isinstance(faust_streams._current_event, contextvars.ContextVar)
    current: Any = faust_streams.current_event
    assert vars(faust_tables)["current_event"] is current  # what a table write asks
    outer, inner = Event(), Event()
    before = current()
    with as_current_event(outer):
        assert current() is outer
        with as_current_event(inner):
            assert current() is inner
        assert current() is outer
    assert current() is before


def test_highwaters_shape_and_the_patch_raises_reported_ends_to_the_true_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    method = AIOKafkaConsumerThread._highwaters
    assert inspect.iscoroutinefunction(method)
    assert list(inspect.signature(method).parameters) == ["self", "partitions"]
    assert "self._highwaters" in inspect.getsource(AIOKafkaConsumerThread.highwaters)

    short, exact = TP("changelog", 0), TP("changelog", 1)

    async def reported(self: Any, partitions: list[TP]) -> Mapping[TP, int]:
        return {short: 1, exact: 4}

    def true_ends(settings: Settings, partitions: list[TP]) -> dict[TP, int]:
        assert partitions == [short, exact]
        return {short: 3, exact: 4}

    monkeypatch.setattr(AIOKafkaConsumerThread, "_highwaters", reported)
    monkeypatch.setattr(AIOKafkaConsumerThread, "_customs_watch_patched", False, raising=False)
    monkeypatch.setattr(patches, "true_ends", true_ends)
    patch_highwaters(Settings())
    patched = vars(AIOKafkaConsumerThread)["_highwaters"]
    assert patched is not reported
    patch_highwaters(Settings())  # idempotent: not wrapped twice
    assert AIOKafkaConsumerThread._highwaters is patched
    thread: Any = object()  # the patch passes it on to the reported highwaters only
    assert asyncio.run(patched(thread, [short, exact])) == {short: 3, exact: 4}
    assert asyncio.run(patched(thread, [])) == {short: 1, exact: 4}  # nothing to probe


def test_faust_fixes_the_fetch_wait_and_the_patch_replaces_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = inspect.getsource(AIOKafkaConsumerThread._create_worker_consumer)
    assert f"fetch_max_wait_ms={FAUST_FIXED_WAIT_MS}" in source
    assert "aiokafka.AIOKafkaConsumer(" in source
    monkeypatch.setattr(aiokafka, "AIOKafkaConsumer", aiokafka.AIOKafkaConsumer)
    patch_fetch_wait(500)
    patch_fetch_wait(50)  # later calls only change the value

    async def worker_consumer() -> tuple[int, int]:
        app = faust.App("patch-test", broker="kafka://localhost:1", autodiscover=False)
        faust_consumer: Any = app.consumer
        consumer = faust_consumer._thread._create_worker_consumer(faust_consumer.transport)
        other = aiokafka.AIOKafkaConsumer(fetch_max_wait_ms=700)
        try:
            return consumer._fetch_max_wait_ms, other._fetch_max_wait_ms
        finally:
            await consumer.stop()
            await other.stop()

    assert asyncio.run(worker_consumer()) == (50, 700)  # only faust's fixed value is replaced


@pytest.mark.parametrize(
    ("target", "name", "names"),
    [
        (faust_streams, "_current_event", "current event"),
        (AIOKafkaConsumerThread, "_highwaters", "changelog highwaters"),
        (AIOKafkaConsumerThread, "_create_worker_consumer", "fetch wait"),
    ],
)
def test_the_start_up_check_fails_loudly_when_a_patched_attribute_is_gone(
    monkeypatch: pytest.MonkeyPatch, target: Any, name: str, names: str
) -> None:
    monkeypatch.delattr(target, name)
    with pytest.raises(PatchOutdated) as failure:
        check_patches()
    message = str(failure.value)
    assert names in message and name.lstrip("_") in message
    assert FAUST_CHECKED[1] in message and metadata.version("faust-streaming") in message


def test_the_start_up_check_fails_when_faust_stops_fixing_the_fetch_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def configurable(self: Any, transport: Any) -> Any:
        return aiokafka.AIOKafkaConsumer(fetch_max_wait_ms=self.app.conf.fetch_wait)

    monkeypatch.setattr(AIOKafkaConsumerThread, "_create_worker_consumer", configurable)
    with pytest.raises(PatchOutdated, match="fetch_max_wait_ms=1500"):
        check_patches()
