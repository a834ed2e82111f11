import asyncio
import gc

import pytest
import uvloop
from pydantic import ValidationError

from schemas.settings import Settings
from stream.runtime import tune_gc, use_event_loop


def test_tune_gc_freezes_what_is_loaded_and_sets_the_configured_thresholds() -> None:
    before = gc.get_threshold()
    loaded = [{"rule": n} for n in range(1000)]  # stands for rules loaded at start
    try:
        tune_gc(Settings().worker.gc_thresholds)
        assert gc.get_threshold() == (200_000, 20, 100)
        assert gc.get_freeze_count() >= len(loaded)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_event_loop_setting_picks_the_loop_new_loops_are_made_of() -> None:
    async def running() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    try:
        use_event_loop(Settings().worker.event_loop)  # the default
        assert isinstance(asyncio.run(running()), uvloop.Loop)
        use_event_loop("asyncio")
        assert not isinstance(asyncio.run(running()), uvloop.Loop)
    finally:
        asyncio.set_event_loop_policy(None)


def test_an_unknown_event_loop_is_refused_by_the_settings() -> None:
    with pytest.raises(ValidationError):
        Settings(worker={"event_loop": "trio"})
