"""Connectors on the real broker: exactly the rows of a file on the raw topic, in order, even
when the connector is SIGKILLed halfway and started again; rows mapped in the stream."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from ingest.broker.reader import read_to_end
from schemas.dead_letter import DeadLetter
from schemas.raw import RawBatch
from tests.services import CLI, Pipeline

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "ingest" / "samples" / "tabular"


def raw_records(pipe: Pipeline, source: str) -> list[tuple[int, str, int]]:
    """(partition, origin, position) of every record on the raw topic, in topic order."""
    out = []
    for message in read_to_end(pipe.settings, pipe.settings.topics.raw(source)):
        batch = RawBatch.model_validate_json(message.value)
        out.extend((message.partition, batch.origin, r.position) for r in batch.records)
    return out


def big_ru_csv(path: Path, rows: int) -> list[int]:
    """A cp1251 export of ``rows`` rows in the Russian layout; returns the rows' line numbers."""
    lines_of = (SAMPLES / "ru_declarations_cp1251.csv").read_bytes().split(b"\r\n")
    header, first = lines_of[0], lines_of[3]  # line 4: a one-line row
    lines = [header]
    numbers = []
    for n in range(rows):
        cells = first.split(b";")
        cells[0] = f"10702070/120324/{n:07d}".encode()
        cells[2] = b"1"
        lines.append(b";".join(cells))
        numbers.append(n + 2)
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return numbers


def test_a_csv_export_lands_mapped_in_the_stream_and_a_second_run_publishes_nothing(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    sample = tmp_path / "ru.csv"
    shutil.copy(SAMPLES / "ru_declarations_cp1251.csv", sample)
    first = pipeline.cli("ingest", "csv", str(sample), "--mapping", "ru_import_declarations")
    assert "published=12 skipped_already_published=0" in first.stdout
    assert "encoding=cp1251" in first.stdout
    again = pipeline.cli("ingest", "csv", str(sample), "--mapping", "ru_import_declarations")
    assert "published=0 skipped_already_published=12" in again.stdout
    records = raw_records(pipeline, "csv")
    assert [r[2] for r in records] == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]  # 2-3 is one row

    pipeline.start_worker()
    pipeline.cli("wait", "--timeout", "180")
    totals = pipeline.cli("query", "line_totals", "--format", "json")
    assert orjson.loads(totals.stdout)[0]["lines"] == 11
    letters = [
        DeadLetter.model_validate_json(m.value)
        for m in read_to_end(pipeline.settings, pipeline.settings.topics.deadletter)
    ]
    assert len(letters) == 1
    letter = letters[0]
    assert letter.position == 11 and "31.02.2024" in letter.reason
    assert letter.context["mapping"] == "ru_import_declarations"
    assert letter.context["encoding"] == "cp1251"
    assert letter.payload.decode("cp1251").split(";")[1] == "31.02.2024"


def test_an_xlsx_workbook_is_published_row_by_row(pipeline: Pipeline, tmp_path: Path) -> None:
    book = tmp_path / "ru.xlsx"
    shutil.copy(SAMPLES / "ru_declarations.xlsx", book)
    out = pipeline.cli("ingest", "xlsx", str(book), "--mapping", "ru_import_declarations")
    assert "published=9 " in out.stdout
    messages = list(read_to_end(pipeline.settings, pipeline.settings.topics.raw("xlsx")))
    batch = RawBatch.model_validate_json(messages[0].value)
    assert batch.format == "xlsx" and batch.mapping == "ru_import_declarations"
    assert batch.header and batch.header[0] == "Номер ДТ"
    assert isinstance(orjson.loads(batch.records[0].payload), list)


def test_a_file_whose_header_lacks_a_required_column_is_refused_whole(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Дата ДТ;Описание товара\n12.03.2024;Жилет\n", encoding="utf-8")
    result = subprocess.run(
        [CLI, "ingest", "csv", str(bad), "--mapping", "ru_import_declarations"],
        env=pipeline.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "missing required column for declaration_id" in result.stderr
    assert raw_records(pipeline, "csv") == []


def test_rows_a_fixed_mapping_can_read_are_replayed_from_the_dead_letters(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    lines_of = (SAMPLES / "ru_declarations_cp1251.csv").read_bytes().split(b"\r\n")
    header, row = lines_of[0], lines_of[3]
    odd = row.replace(b"12.03.2024", b"2024/03/12").replace(b";1;", b";2;", 1)
    feed = tmp_path / "odd-dates.csv"
    feed.write_bytes(header + b"\r\n" + row + b"\r\n" + odd + b"\r\n")
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    pipeline.env["CUSTOMS_WATCH_INGEST_MAPPINGS_DIR"] = str(mappings)
    pipeline.start_worker()
    pipeline.cli("ingest", "csv", str(feed), "--mapping", "ru_import_declarations")
    pipeline.cli("wait", "--timeout", "180")

    def lines() -> int:
        out = pipeline.cli("query", "line_totals", "--format", "json").stdout
        return int(orjson.loads(out)[0]["lines"])

    assert lines() == 1
    listed = pipeline.cli("deadletter", "list").stdout
    assert "2024/03/12" in listed and "matches none of the date formats" in listed

    # The fix: the same layout, with the date format this export uses, in your own folder.
    fixed = (
        Path(__file__).resolve().parents[2] / "schemas" / "mappings" / "ru_import_declarations.yaml"
    ).read_text(encoding="utf-8")
    fixed = fixed.replace('date_formats: ["%d.%m.%Y",', 'date_formats: ["%Y/%m/%d", "%d.%m.%Y",')
    assert "%Y/%m/%d" in fixed
    (mappings / "ru_import_declarations.yaml").write_text(fixed, encoding="utf-8")

    assert (
        "1 dead letter(s) to replay"
        in pipeline.cli("deadletter", "replay", "--stage", "parse", "--dry-run").stdout
    )
    assert "replayed 1 dead letter(s)" in pipeline.cli("deadletter", "replay").stdout
    pipeline.cli("wait", "--timeout", "180")
    deadline = time.monotonic() + 60
    while lines() < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert lines() == 2
    assert "0 dead letter(s) to replay" in pipeline.cli("deadletter", "replay").stdout


def test_a_watched_folder_publishes_each_file_and_moves_it_to_done_or_failed(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "ru_declarations_cp1251.csv", inbox / "ru.csv")
    shutil.copy(SAMPLES / "us_bol.csv", inbox / "bol.csv")
    (inbox / "lines.jsonl").write_bytes((SAMPLES.parent / "demo.jsonl").read_bytes())
    (inbox / "unknown.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (inbox / "scan.pdf").write_bytes(b"%PDF-1.4")
    (inbox / "copying.csv.part").write_bytes(b"half a file")
    out = pipeline.cli("ingest", "watch", str(inbox), "--once")
    assert "done=3 failed=2" in out.stdout
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "bol.csv",
        "lines.jsonl",
        "ru.csv",
    ]
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert failed == ["scan.pdf", "scan.pdf.reason.txt", "unknown.csv", "unknown.csv.reason.txt"]
    assert "no mapping fits its header" in (inbox / "failed" / "unknown.csv.reason.txt").read_text()
    assert (inbox / "copying.csv.part").exists()  # still being copied: left alone
    origins = {origin for _, origin, _ in raw_records(pipeline, "watch")}
    assert {Path(o).name for o in origins} == {"ru.csv", "bol.csv", "lines.jsonl"}
    demo_lines = sum(
        1 for x in (SAMPLES.parent / "demo.jsonl").read_bytes().splitlines() if x.strip()
    )
    assert len(raw_records(pipeline, "watch")) == 12 + 10 + demo_lines
    letters = [
        DeadLetter.model_validate_json(m.value)
        for m in read_to_end(pipeline.settings, pipeline.settings.topics.deadletter)
    ]
    assert sorted((x.stage, Path(x.origin).name) for x in letters) == [
        ("ingest", "scan.pdf"),
        ("ingest", "unknown.csv"),
    ]


def test_a_watcher_killed_midway_finishes_the_file_once_when_started_again(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    staging = tmp_path / "big.csv"
    expected = big_ru_csv(staging, 40_000)
    staging.replace(inbox / "big.csv")
    env = {**pipeline.env, "CUSTOMS_WATCH_INGEST_BATCH_RECORDS": "100"}
    state = Path(env["CUSTOMS_WATCH_INGEST_STATE_DIR"]) / (
        pipeline.settings.topics.raw("watch") + ".json"
    )
    command = [CLI, "ingest", "watch", str(inbox), "--interval", "0.2"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while True:
        entries = orjson.loads(state.read_bytes()) if state.exists() else {}
        if entries and 5_000 < next(iter(entries.values()))["position"] < 30_000:
            break
        assert process.poll() is None and time.monotonic() < deadline, "no progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert (inbox / "big.csv").exists()  # not moved: unfinished

    out = pipeline.cli("ingest", "watch", str(inbox), "--once", timeout=300)
    assert "done=1 failed=0" in out.stdout
    assert (inbox / "done" / "big.csv").exists()
    assert [r[2] for r in raw_records(pipeline, "watch")] == expected


class Endpoint:
    """A JSON endpoint on 127.0.0.1 serving records after ?since_id=, a page at a time.

    The first request answers 503 (a transient failure the poller must ride out)."""

    def __init__(self, records: list[dict[str, object]], page: int = 200) -> None:
        import http.server
        import threading
        import urllib.parse

        self.records, self.page, self.requests = records, page, 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if outer.requests == 1:
                    self.send_response(503)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                since = int(query.get("since_id", ["0"])[0])
                chosen = [r for r in outer.records if int(r["id"]) > since][: outer.page]  # type: ignore[call-overload]
                body = orjson.dumps({"records": chosen})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/declarations"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def endpoint_records(count: int) -> list[dict[str, object]]:
    from ingest.synthetic import synthetic_lines

    return [{"id": n + 1, **line} for n, line in enumerate(synthetic_lines(count, seed=8))]


def test_an_http_endpoint_is_polled_with_a_cursor_and_retries_past_a_503(
    pipeline: Pipeline,
) -> None:
    endpoint = Endpoint(endpoint_records(450), page=200)
    try:
        out = pipeline.cli("ingest", "http", endpoint.url, "--once")
        assert "published=450 " in out.stdout and "retries=1" in out.stdout
        endpoint.records.extend(
            {**r, "id": int(r["id"]) + 450}
            for r in endpoint_records(30)  # type: ignore[call-overload]
        )
        again = pipeline.cli("ingest", "http", endpoint.url, "--once")
        assert "published=30 cursor_from=450" in again.stdout
    finally:
        endpoint.close()
    messages = list(read_to_end(pipeline.settings, pipeline.settings.topics.raw("http")))
    batches = [RawBatch.model_validate_json(m.value) for m in messages]
    ids = [orjson.loads(r.payload)["id"] for b in batches for r in b.records]
    assert ids == list(range(1, 481))
    assert all(b.cursor == str(orjson.loads(b.records[-1].payload)["id"]) for b in batches)


def test_a_poller_killed_midway_resumes_from_the_last_batch_on_the_topic(
    pipeline: Pipeline,
) -> None:
    endpoint = Endpoint(endpoint_records(20_000), page=250)
    env = {**pipeline.env, "CUSTOMS_WATCH_INGEST_BATCH_RECORDS": "40"}
    state = Path(env["CUSTOMS_WATCH_INGEST_STATE_DIR"]) / (
        pipeline.settings.topics.raw("http") + ".json"
    )
    command = [CLI, "ingest", "http", endpoint.url, "--once"]
    try:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            entries = orjson.loads(state.read_bytes()) if state.exists() else {}
            if entries and 3_000 < next(iter(entries.values()))["position"] < 15_000:
                break
            assert process.poll() is None and time.monotonic() < deadline, "no progress"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    finally:
        endpoint.close()
    messages = list(read_to_end(pipeline.settings, pipeline.settings.topics.raw("http")))
    records = [r for m in messages for r in RawBatch.model_validate_json(m.value).records]
    assert [r.position for r in records] == list(range(1, 20_001))
    assert [orjson.loads(r.payload)["id"] for r in records] == list(range(1, 20_001))


CUSDEC = SAMPLES.parent / "cusdec"


def test_cusdec_messages_become_lines_and_broken_ones_dead_letters(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    for name in ("import_ru.edi", "broken.edi"):
        shutil.copy(CUSDEC / name, tmp_path / name)
        out = pipeline.cli("ingest", "cusdec", str(tmp_path / name))
        assert "skipped_already_published=0" in out.stdout
    per_file: dict[str, list[int]] = {}
    for _, origin, position in raw_records(pipeline, "cusdec"):  # partitions interleave
        per_file.setdefault(Path(origin).name, []).append(position)
    assert per_file == {"import_ru.edi": [1, 2], "broken.edi": [1, 2, 3]}
    pipeline.start_worker()
    pipeline.cli("wait", "--timeout", "180")
    totals = orjson.loads(pipeline.cli("query", "line_totals", "--format", "json").stdout)
    assert totals[0]["lines"] == 3 + 1 + 1  # two messages of the import, the good broken one
    letters = [
        DeadLetter.model_validate_json(m.value)
        for m in read_to_end(pipeline.settings, pipeline.settings.topics.deadletter)
    ]
    assert sorted((x.position, x.reason) for x in letters) == [
        (2, "UNT counts 4 segments, the message has 7"),
        (3, "segment 3 (DTM): '20240231' is not a date in format 102"),
    ]
    assert all(x.payload.startswith(b"UNH+BR000") for x in letters)
    assert all(x.context["format"] == "cusdec" for x in letters)


def big_interchange(path: Path, messages: int) -> None:
    body = []
    for n in range(1, messages + 1):
        segments = [
            f"UNH+M{n}+CUSDEC:D:96B:UN",
            f"BGM+929+10702070/010424/{n:07d}+9",
            "DTM+137:20240401:102",
            "UNS+D",
            "CST+1+8542310000:122",
            "FTX+AAA+++Microcontrollers, 32-bit",
        ]
        segments.append(f"UNT+{len(segments) + 1}+M{n}")
        body.extend(segments)
    text = "UNB+UNOC:3+S:ZZZ+R:ZZZ+240401:1200+IC1'" + "'".join(body) + f"'UNZ+{messages}+IC1'"
    path.write_text(text, encoding="latin-1")


def big_ru_xlsx(path: Path, rows: int) -> list[int]:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("ДТ")
    lines_of = (SAMPLES / "ru_declarations_cp1251.csv").read_bytes().split(b"\r\n")
    sheet.append(lines_of[0].decode("cp1251").split(";"))
    cells = lines_of[3].decode("cp1251").split(";")
    for n in range(rows):
        sheet.append([f"10702070/120324/{n:07d}", *cells[1:]])
    book.save(path)
    return list(range(2, rows + 2))


def big_jsonl(path: Path, rows: int) -> list[int]:
    from ingest.synthetic import synthetic_jsonl

    path.write_bytes(synthetic_jsonl(rows, seed=12, prefix="KILL"))
    return list(range(1, rows + 1))


def big_cusdec(path: Path, messages: int) -> list[int]:
    big_interchange(path, messages)
    return list(range(1, messages + 1))


@pytest.mark.parametrize(
    ("kind", "make", "rows", "extra"),
    [
        ("csv", big_ru_csv, 40_000, ["--mapping", "ru_import_declarations"]),
        ("xlsx", big_ru_xlsx, 20_000, ["--mapping", "ru_import_declarations"]),
        ("cusdec", big_cusdec, 30_000, []),
        ("jsonl", big_jsonl, 40_000, []),
    ],
)
def test_a_connector_killed_halfway_and_restarted_publishes_every_record_once_in_order(
    pipeline: Pipeline,
    tmp_path: Path,
    kind: str,
    make: Callable[[Path, int], list[int]],
    rows: int,
    extra: list[str],
) -> None:
    feed = tmp_path / f"big.{kind}"
    expected = make(feed, rows)
    env = {**pipeline.env, "CUSTOMS_WATCH_INGEST_BATCH_RECORDS": "100"}
    state = Path(env["CUSTOMS_WATCH_INGEST_STATE_DIR"]) / (
        pipeline.settings.topics.raw(kind) + ".json"
    )
    command = [CLI, "ingest", kind, str(feed), *extra]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 180
    while True:
        entries = orjson.loads(state.read_bytes()) if state.exists() else {}
        position = next(iter(entries.values()))["position"] if entries else 0
        if rows // 8 < position < rows * 3 // 4:
            break
        assert process.poll() is None, f"the connector ended before it could be killed: {position}"
        assert time.monotonic() < deadline, "no progress in the state file"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    counts = dict(kv.split("=", 1) for kv in result.stdout.split() if "=" in kv)
    skipped, published = int(counts["skipped_already_published"]), int(counts["published"])
    # positions are the feed's own numbers (a CSV's line numbers count its header): compare
    # records, not positions
    known = expected.index(position) + 1
    assert skipped >= known and skipped + published == rows
    records = raw_records(pipeline, kind)
    assert len({r[0] for r in records}) == 1  # one origin, one partition
    assert [r[2] for r in records] == expected, f"killed after record {position}"
