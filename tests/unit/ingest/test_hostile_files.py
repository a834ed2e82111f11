"""Hostile files are refused quickly with a reason, never followed through a link, and the
folder watcher stays up: built here, read through the real readers and watcher."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.connectors.base import OriginFeed
from ingest.connectors.files import head_of, read_guarded
from ingest.connectors.watch import FolderWatcher, WatchSummary
from ingest.errors import FileRejected, FolderRefused
from ingest.formats.tabular.catalog import MappingCatalog
from ingest.formats.tabular.limits import ReadRefused
from ingest.formats.tabular.reader import read_csv, read_xlsx
from schemas.raw import RawRecord
from schemas.settings import IngestSettings
from tests.unit.ingest import hostile_files as hostile
from tests.unit.mappings.helpers import mapping

XLSX = mapping(format="xlsx", date_formats=["%d.%m.%Y", "%Y-%m-%d"])


def test_a_workbook_declaring_a_huge_dimension_is_read_as_its_xml_has_it() -> None:
    started = time.monotonic()
    table = read_xlsx(hostile.huge_dimension(), XLSX)
    assert [r.cells for r in table.rows] == [["D1", "01.02.2024", "8806", "Drone", "10"]]
    assert time.monotonic() - started < 2


def test_zip_entries_past_the_size_or_ratio_limit_are_refused_before_inflating() -> None:
    with pytest.raises(ReadRefused, match="declares 4294967280 bytes uncompressed"):
        read_xlsx(hostile.declaring(), XLSX)
    with pytest.raises(ReadRefused, match=r"inflates .* times"):
        read_xlsx(hostile.inflating(), XLSX)
    roomy = IngestSettings(max_zip_ratio=10_000)
    assert read_xlsx(hostile.inflating(), XLSX, limits=roomy).header[0] == "Declaration No."


def test_rows_columns_and_time_limits() -> None:
    wide = hostile.workbook([["Declaration No.", *[f"c{n}" for n in range(20)]], ["D1"]])
    with pytest.raises(ReadRefused, match="row 1 has 21 cells"):
        read_xlsx(wide, XLSX, limits=IngestSettings(max_columns=20))
    tall = hostile.workbook([["Declaration No."], *[[f"D{n}"] for n in range(5)]])
    with pytest.raises(ReadRefused, match="row 4 is past the limit of 3"):
        read_xlsx(tall, XLSX, limits=IngestSettings(max_rows=3))
    with pytest.raises(ReadRefused, match="reading took over"):
        read_xlsx(tall, XLSX, limits=IngestSettings(max_read_s=1e-9))
    data = b"Declaration No.;Date\r\n" + b"D1;x\r\n" * 5
    with pytest.raises(ReadRefused, match="row 4 is past"):
        list(read_csv(data, mapping(), limits=IngestSettings(max_rows=3)).rows)
    with pytest.raises(ReadRefused, match="over the limit of 10"):
        read_csv(data, mapping(), limits=IngestSettings(max_file_bytes=10))


def test_whatever_a_reader_raises_becomes_one_refusal(tmp_path: Path) -> None:
    def broken() -> OriginFeed:
        raise SyntaxError("unclosed token: line 1, column 499")  # ParseError's base

    with pytest.raises(FileRejected, match=r"x.xlsx: cannot be read \(SyntaxError: unclosed"):
        read_guarded(tmp_path / "x.xlsx", broken)

    def records() -> Iterator[RawRecord]:
        yield from ()
        raise MemoryError("bomb")

    def lazy() -> OriginFeed:
        return OriginFeed("x", None, records())

    feed = read_guarded(tmp_path / "x.csv", lazy)
    with pytest.raises(FileRejected, match=r"x.csv: cannot be read \(MemoryError: bomb\)"):
        list(feed.records)


class Recorder:
    def __init__(self) -> None:
        self.published: list[str] = []
        self.refused: dict[str, str] = {}

    def publish(self, feed: OriginFeed) -> None:
        self.published.append(Path(feed.origin).name)
        list(feed.records)

    def reject(self, path: Path, reason: str) -> None:
        self.refused[path.name] = reason


def watcher(folder: Path, recorder: Recorder, **limits: float) -> FolderWatcher:
    return FolderWatcher(
        folder,
        recorder.publish,
        recorder.reject,
        "watch",
        MappingCatalog(None),
        "ru_import_declarations",
        limits=IngestSettings(**limits),
    )


def test_the_watcher_refuses_hostile_files_into_failed_and_stays_up(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    secret = tmp_path / "secret.jsonl"
    secret.write_bytes(b'{"secret": 1}\n')
    (folder / "link.jsonl").symlink_to(secret)
    (folder / "truncated.xlsx").write_bytes(hostile.truncated_sheet())
    (folder / "bomb.xlsx").write_bytes(hostile.inflating())
    (folder / "cut.xlsx").write_bytes(hostile.workbook()[:3000])
    (folder / "good.jsonl").write_bytes(b'{"a": 1}\n')
    (folder / "big.csv").write_bytes(b"a,b\n" + b"1,2\n" * 6000)  # read whole: over
    (folder / "long.jsonl").write_bytes(b'{"a": 1}\n' + b"x" * (2 << 20) + b"\n")
    (folder / "year.jsonl").write_bytes(b'{"a": 1}\n' * 3000)  # read line by line: passes
    os.mkfifo(folder / "pipe.jsonl")
    recorder = Recorder()
    summary = WatchSummary()
    limits = {"max_file_bytes": 20_000, "max_line_bytes": 1 << 20}
    for path in watcher(folder, recorder, **limits).ready(settle=False):
        watcher(folder, recorder, **limits).handle(path, summary)
    assert sorted(recorder.published) == ["good.jsonl", "year.jsonl"]
    assert (
        sorted(summary.failed)
        == sorted(recorder.refused)
        == [
            "big.csv",
            "bomb.xlsx",
            "cut.xlsx",
            "link.jsonl",
            "long.jsonl",
            "pipe.jsonl",
            "truncated.xlsx",
        ]
    )
    assert "a symbolic link, not followed" in recorder.refused["link.jsonl"]
    assert "cannot be read (ParseError" in recorder.refused["truncated.xlsx"]
    assert "zip bomb" in recorder.refused["bomb.xlsx"]
    assert "not a readable .xlsx workbook" in recorder.refused["cut.xlsx"]
    assert "over the limit of 20000 (ingest.max_file_bytes)" in recorder.refused["big.csv"]
    assert f"line 2 is over {1 << 20} bytes" in recorder.refused["long.jsonl"]
    assert "not a regular file" in recorder.refused["pipe.jsonl"]
    moved = folder / "failed" / "link.jsonl"
    assert moved.is_symlink() and secret.read_bytes() == b'{"secret": 1}\n'
    assert head_of(moved, 100) == b""
    reason = folder / "failed" / "truncated.xlsx.reason.txt"
    assert "ParseError" in reason.read_text()
    assert (folder / "done" / "good.jsonl").exists()


def test_reason_files_and_failed_are_never_written_through_a_link(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "failed").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    (folder / "failed" / "x.bin.reason.txt").symlink_to(victim)
    (folder / "failed" / "x.bin").symlink_to(tmp_path / "nowhere")  # dangling: lexists
    (folder / "x.bin").write_bytes(b"?")
    recorder = Recorder()
    summary = WatchSummary()
    watcher(folder, recorder).handle(folder / "x.bin", summary)
    assert victim.read_text() == "keep\n"
    assert summary.failed == ["x.bin"]
    (refused,) = recorder.refused
    assert refused.startswith("x.") and refused != "x.bin"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    (other / "done").symlink_to(elsewhere)
    with pytest.raises(FolderRefused, match="is a symbolic link"):
        watcher(other, recorder)
