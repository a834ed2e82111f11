"""The pure parts of exactly-once publishing: what resume skips, the state file's lock, an
oversize record's dead letter, batches split to fit a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import SourceBusy
from ingest.resume import Published, _merged
from ingest.run import oversize_letter
from ingest.state import SourceState
from schemas.raw import RawBatch, RawRecord
from tests.records import raw_record


def test_resume_skips_the_in_order_prefix_and_every_batch_found_not_past_a_gap() -> None:
    found = Published(30, None, 7, acked=10, spans=_merged([(21, 30), (12, 15), (14, 16)]))
    assert found.spans == ((12, 16), (21, 30))
    assert [p for p in range(1, 33) if not found.holds(p)] == [11, *range(17, 21), 31, 32]


def test_a_second_connector_on_the_same_state_file_is_refused(tmp_path: Path) -> None:
    first = SourceState(tmp_path, "customs.raw.csv")
    with pytest.raises(SourceBusy, match=r"another connector \(pid \d+\) is publishing"):
        SourceState(tmp_path, "customs.raw.csv")
    SourceState(tmp_path, "customs.raw.jsonl").close()  # another source is free
    first.close()
    SourceState(tmp_path, "customs.raw.csv").close()


def record(payload: bytes, position: int = 7) -> RawRecord:
    return raw_record(payload, position, origin="/in/feed.jsonl")


def test_an_oversize_record_letter_keeps_its_position_reason_and_first_bytes() -> None:
    payload = b"x" * (2 << 20)
    batch = RawBatch(source="jsonl", origin="/in/feed.jsonl", records=[record(payload)])
    letter = oversize_letter(batch, 2_900_000, 1 << 20)
    assert (letter.stage, letter.position, letter.origin) == ("ingest", 7, "/in/feed.jsonl")
    assert "over the limit of 1048576" in letter.reason and "first 737280 bytes" in letter.reason
    assert letter.payload == payload[:737280]
    assert len(letter.model_dump_json()) < 1 << 20
    small = RawBatch(source="jsonl", origin="o", records=[record(b"{}")])
    assert oversize_letter(small, 9, 1 << 20).payload == b"{}"
