import os
from pathlib import Path

import pytest

from schemas.rule_data import load_rules
from schemas.watchlist import WatchlistEntry
from stream.screening.loaders import read_list
from stream.screening.store import (
    WatchedScreener,
    fingerprint,
    list_files,
    load_folder,
    remove_list,
    save_list,
)

RULES = load_rules().screening
SAMPLES = Path(__file__).resolve().parents[3] / "ingest" / "samples"


def entry(id: str, name: str) -> WatchlistEntry:
    return WatchlistEntry.model_validate(
        {"id": id, "dataset": "t", "schema": "Company", "name": name}
    )


def test_saved_lists_round_trip_and_combine(tmp_path: Path) -> None:
    csv_entries = list(read_list(SAMPLES / "watchlist_demo.csv", "demo"))
    save_list(csv_entries, "demo", tmp_path)
    save_list(read_list(SAMPLES / "watchlist_demo.ftm.json", "ftm"), "ftm", tmp_path)
    assert [p.name for p in list_files(tmp_path)] == ["demo.jsonl", "ftm.jsonl"]
    index = load_folder(tmp_path, RULES)
    assert dict(index.datasets) == {"demo": 7, "ftm": 3}
    assert index.entities[0].id == csv_entries[0].id
    assert not list(tmp_path.glob(".*.tmp"))


def test_bad_dataset_names_are_refused(tmp_path: Path) -> None:
    for name in ("../x", "", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            save_list([], name, tmp_path)


def test_watcher_swaps_in_a_new_list_version_and_drops_a_removed_one(tmp_path: Path) -> None:
    watched = WatchedScreener(tmp_path, RULES)
    assert watched.current is None
    save_list([entry("a", "Alpha Kompleks")], "one", tmp_path)
    assert watched.refresh() is True
    assert watched.current is not None
    assert [m.matched_name for m in watched.current.screen("Alpha Kompleks")] == ["Alpha Kompleks"]
    assert watched.refresh() is False  # unchanged folder, no rebuild
    save_list([entry("a", "Alpha Kompleks"), entry("b", "Beta Sistemy")], "one", tmp_path)
    os.utime(tmp_path / "one.jsonl", ns=(1, 1))  # a new version even within one clock tick
    before = fingerprint(tmp_path)
    assert watched.refresh() is True
    assert fingerprint(tmp_path) == before
    assert watched.current is not None and len(watched.current.index) == 2
    assert remove_list("one", tmp_path) is True
    assert watched.refresh() is True
    assert watched.current is None
