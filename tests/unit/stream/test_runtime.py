import gc

from schemas.settings import Settings
from stream.runtime import tune_gc


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
