"""Connector faults on the real broker (issue 14, items 7 and 8): a lost state folder, a
second connector on one source, a record over the message limit, hostile files in a
watched folder. Each case failed before the change."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest

from ingest.broker.reader import read_to_end
from schemas.dead_letter import DeadLetter
from schemas.raw import RawBatch
from tests.services import CLI, Pipeline
from tests.unit.ingest import hostile_files as hostile

pytestmark = pytest.mark.integration


def positions(pipe: Pipeline, source: str, origin: Path) -> Counter[int]:
    """How many times each record position of ``origin`` is on the raw topic."""
    found: Counter[int] = Counter()
    for message in read_to_end(pipe.settings, pipe.settings.topics.raw(source)):
        batch = RawBatch.model_validate_json(message.value)
        if batch.origin == str(origin):
            found.update(r.position for r in batch.records)
    return found


def letters(pipe: Pipeline) -> list[DeadLetter]:
    return [
        DeadLetter.model_validate_json(m.value)
        for m in read_to_end(pipe.settings, pipe.settings.topics.deadletter)
    ]


def run(
    pipe: Pipeline, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env or pipe.env, capture_output=True, text=True, timeout=120, check=False
    )


def feed(path: Path, lines: int) -> Path:
    path.write_bytes(b"".join(b'{"declaration_id": "D%d"}\n' % n for n in range(lines)))
    return path


def test_a_lost_state_folder_republishes_nothing(pipeline: Pipeline, tmp_path: Path) -> None:
    path = feed(tmp_path / "feed.jsonl", 2500)
    first = pipeline.cli("ingest", "jsonl", str(path), "--source", "jsonl")
    assert "published=2500 " in first.stdout
    shutil.rmtree(tmp_path / "ingest-state")
    again = pipeline.cli("ingest", "jsonl", str(path), "--source", "jsonl")
    assert "published=0 skipped_already_published=2500" in again.stdout
    found = positions(pipeline, "jsonl", path)
    assert len(found) == 2500 and set(found.values()) == {1}


def test_a_second_connector_on_a_source_being_published_is_refused(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    watcher = subprocess.Popen(
        [CLI, "ingest", "watch", str(folder), "--interval", "0.2", "--source", "watch"],
        env=pipeline.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lock = tmp_path / "ingest-state" / f"{pipeline.settings.topics.raw('watch')}.lock"
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip() == str(watcher.pid)):
            assert watcher.poll() is None, watcher.communicate()
            assert time.monotonic() < deadline, "the watcher never took its source"
            time.sleep(0.2)
        second = run(
            pipeline, "ingest", "jsonl", str(feed(tmp_path / "f.jsonl", 3)), "--source", "watch"
        )
        assert second.returncode == 3, second.stderr
        assert f"another connector (pid {watcher.pid}) is publishing to" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
    after = pipeline.cli("ingest", "jsonl", str(tmp_path / "f.jsonl"), "--source", "watch")
    assert "published=3 " in after.stdout  # the lock went with the watcher


def test_a_record_over_the_message_limit_is_one_dead_letter_and_the_rest_goes_on(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    path = tmp_path / "big.jsonl"
    huge = b'{"declaration_id": "BIG", "description": "' + b"x" * (1536 * 1024) + b'"}'
    path.write_bytes(b'{"n": 1}\n{"n": 2}\n' + huge + b'\n{"n": 4}\n{"n": 5}\n')
    env = {**pipeline.env, "CUSTOMS_WATCH_TOPICS_MAX_MESSAGE_BYTES": str(1 << 20)}
    result = run(pipeline, "ingest", "jsonl", str(path), "--source", "jsonl", env=env)
    assert result.returncode == 0, result.stderr
    assert "published=4 skipped_already_published=0 dead_lettered=1" in result.stdout
    assert sorted(positions(pipeline, "jsonl", path).elements()) == [1, 2, 4, 5]
    (letter,) = letters(pipeline)
    assert (letter.stage, letter.position, letter.origin) == ("ingest", 3, str(path))
    assert "over the limit of 1048576" in letter.reason
    assert huge.startswith(letter.payload) and len(letter.payload) > 700_000
    again = run(pipeline, "ingest", "jsonl", str(path), "--source", "jsonl", env=env)
    assert "published=0 " in again.stdout and len(letters(pipeline)) == 1


def test_watch_once_refuses_hostile_files_into_failed_and_publishes_the_good_one(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    target = tmp_path / "outside.jsonl"
    target.write_bytes(b'{"secret": true}\n')
    (folder / "link.jsonl").symlink_to(target)
    (folder / "truncated.xlsx").write_bytes(hostile.truncated_sheet())
    (folder / "bomb.xlsx").write_bytes(hostile.declaring())
    (folder / "dimension.xlsx").write_bytes(hostile.huge_dimension())
    feed(folder / "good.jsonl", 3)
    started = time.monotonic()
    result = run(
        pipeline,
        "ingest",
        "watch",
        str(folder),
        "--once",
        "--source",
        "watch",
        "--mapping",
        "ru_import_declarations",
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    assert "done=1 failed=4" in result.stdout, result.stdout + result.stderr
    failed = folder / "failed"
    assert sorted(p.name for p in failed.iterdir() if not p.name.endswith(".reason.txt")) == [
        "bomb.xlsx",
        "dimension.xlsx",
        "link.jsonl",
        "truncated.xlsx",
    ]
    assert (failed / "link.jsonl").is_symlink()
    assert target.read_bytes() == b'{"secret": true}\n'
    assert "symbolic link, not followed" in (failed / "link.jsonl.reason.txt").read_text()
    assert "ParseError" in (failed / "truncated.xlsx.reason.txt").read_text()
    assert "max_zip_entry_bytes" in (failed / "bomb.xlsx.reason.txt").read_text()
    refused = {Path(letter.origin).name: letter for letter in letters(pipeline)}
    assert sorted(refused) == ["bomb.xlsx", "dimension.xlsx", "link.jsonl", "truncated.xlsx"]
    assert refused["link.jsonl"].payload == b""
    assert (folder / "done" / "good.jsonl").exists()
    assert sorted(positions(pipeline, "watch", folder / "good.jsonl").elements()) == [1, 2, 3]


def test_a_large_file_is_spread_in_chunks_that_each_resume_once_after_a_kill(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """Issue 16: a backfill file cut into chunks of 3 000 positions goes to both partitions
    (so two workers share it); killed midway and started again, then run once more with the
    state folder lost, every record is on the topic exactly once."""
    lines = 12_000
    path = feed(tmp_path / "backfill.jsonl", lines)
    env = {
        **pipeline.env,
        "CUSTOMS_WATCH_INGEST_BATCH_RECORDS": "100",
        "CUSTOMS_WATCH_INGEST_CHUNK_RECORDS": "3000",
    }
    state = Path(env["CUSTOMS_WATCH_INGEST_STATE_DIR"]) / (
        pipeline.settings.topics.raw("jsonl") + ".json"
    )
    command = [CLI, "ingest", "jsonl", str(path), "--source", "jsonl"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while True:  # kill it inside the second chunk
        entries = orjson.loads(state.read_bytes()) if state.exists() else {}
        if any(e["position"] > 3500 for e in entries.values()):
            break
        assert process.poll() is None, "the connector ended before it could be killed"
        assert time.monotonic() < deadline, "no progress in the state file"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    again = run(pipeline, "ingest", "jsonl", str(path), "--source", "jsonl", env=env)
    assert again.returncode == 0, again.stderr
    assert "skipped_already_published=" in again.stdout
    shutil.rmtree(tmp_path / "ingest-state")
    lost = run(pipeline, "ingest", "jsonl", str(path), "--source", "jsonl", env=env)
    assert "published=0 skipped_already_published=12000" in lost.stdout, lost.stdout

    found = positions(pipeline, "jsonl", path)
    assert len(found) == lines and set(found.values()) == {1}
    partitions: dict[int, set[bytes]] = {}
    for message in read_to_end(pipeline.settings, pipeline.settings.topics.raw("jsonl")):
        partitions.setdefault(message.partition, set()).add(message.key)
    assert len(partitions) == 2  # both partitions carry chunks of the file
    assert sum(len(keys) for keys in partitions.values()) == 4  # one key per chunk
