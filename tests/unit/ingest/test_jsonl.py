import re
from pathlib import Path

import pytest

from ingest.connectors.jsonl import JsonlConnector
from ingest.errors import FileRejected
from schemas.raw import payload_checksum
from schemas.settings import IngestSettings


def test_lines_are_published_byte_for_byte_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    cp1251_line = '{"description": "Жилет"}'.encode("cp1251")
    path.write_bytes(b'{"a": 1}\r\n\n   \n' + cp1251_line + b"\n{broken")
    connector = JsonlConnector(path, source="ru-fts")
    out = list(connector.records())
    assert [r.position for r in out] == [1, 4, 5]
    assert [r.payload for r in out] == [b'{"a": 1}', cp1251_line, b"{broken"]
    assert all(r.checksum == payload_checksum(r.payload) for r in out)
    assert {r.source for r in out} == {"ru-fts"}
    assert connector.blank_lines == 2


def test_a_jsonl_file_is_read_line_by_line_past_the_whole_file_limit(tmp_path: Path) -> None:
    """Issue 16: a backfill is one file of tens of GB; JSONL is never held whole, so the
    limit on files read whole does not refuse it (its own, much larger one does)."""
    path = tmp_path / "year.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 3000)  # 27 000 bytes
    limits = IngestSettings(max_file_bytes=20_000)
    feed = JsonlConnector(path, "ru-fts", limits).feed()
    assert len(list(feed.records)) == 3000
    why = re.escape("over the limit of 20000 (ingest.max_streamed_file_bytes)")
    with pytest.raises(FileRejected, match=why):
        JsonlConnector(path, "ru-fts", IngestSettings(max_streamed_file_bytes=20_000)).feed()


@pytest.mark.parametrize("where", [0, 1_000_000, (1 << 20) - 5, 5_000_000])
def test_a_line_over_the_line_limit_refuses_the_file_before_anything_is_read(
    tmp_path: Path, where: int
) -> None:
    """The checksum pass finds the long line whichever chunk boundaries it crosses, and
    names it; a line of exactly the limit passes."""
    limit = 1 << 20
    short = b'{"a": 1}\n'
    head = short * (where // len(short))
    lines_before = head.count(b"\n")
    path = tmp_path / "long.jsonl"
    path.write_bytes(head + b"x" * (limit + 1) + b"\n" + short * 10)
    connector = JsonlConnector(path, "ru-fts", IngestSettings(max_line_bytes=limit))
    with pytest.raises(FileRejected, match=f"line {lines_before + 1} is over {limit} bytes"):
        connector.feed()
    path.write_bytes(head + b"x" * limit + b"\n" + short * 10 + b"y" * limit)
    feed = JsonlConnector(path, "ru-fts", IngestSettings(max_line_bytes=limit)).feed()
    assert [len(r.payload) for r in feed.records][lines_before:] == [limit] + [8] * 10 + [limit]


def test_a_line_that_grew_after_the_checksum_is_refused_while_reading(tmp_path: Path) -> None:
    limit = 1 << 20
    path = tmp_path / "moving.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 3)
    connector = JsonlConnector(path, "ru-fts", IngestSettings(max_line_bytes=limit))
    feed = connector.feed()
    path.write_bytes(b'{"a": 1}\n' + b"z" * (limit + 1) + b"\n")
    with pytest.raises(FileRejected, match=f"line 2 is over {limit} bytes"):
        list(feed.records)
