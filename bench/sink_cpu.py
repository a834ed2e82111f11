"""The sink's own CPU per 1 000 lines, in-process and without a broker (issue 16).

``python -m bench.sink_cpu [--lines N] [--mode behind|paced] [--rate R] [--profile FILE]
[--headers worker|mark]``

The realistic feed (bench/feed.py) goes through the worker's stages once (``Enricher``,
encoded as the enrich agent encodes it, with the writer mark and, unless ``--headers
mark``, the batch header; cached in the temp directory), spread over four partitions.
:class:`stream.sink.service.Sink` then reads the messages from an in-memory consumer in
place of aiokafka and writes them into a fresh embedded ClickHouse directory, exactly as
``customs-watch sink`` would (plans, tokens, commits, dead letters). The figure is the
process's CPU (every thread, chdb's included, from ``getrusage``) between the first
message and the last row in ClickHouse, per 1 000 lines; a broker and the consumer client
are left out, so only the sink's own work counts.

* ``behind``: every message is there from the start (a sink catching up);
* ``paced``: messages arrive at ``--rate`` lines/s (a sink keeping up with a worker).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import resource
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from schemas.settings import Settings

PARTITIONS = 4
LINES_PER_MESSAGE = 1000  # the connectors' batch_records: one raw message, one enriched batch


@dataclass(frozen=True, slots=True)
class Message:
    offset: int
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def enriched_feed(lines: int, seed: int = 1) -> list[bytes]:
    """The feed's lines as the enrich agent writes them, one message per 1 000 lines."""
    cache = Path(tempfile.gettempdir()) / f"cw-sink-cpu-{lines}-{seed}.json"
    if cache.exists():
        return [bytes.fromhex(x) for x in json.loads(cache.read_text())]
    from bench.feed import realistic_lines
    from schemas.codecs import ENRICHED_BATCH
    from schemas.declaration import Declaration, RawRef
    from schemas.enriched import EnrichedBatch
    from schemas.rule_data import load_rules
    from stream.stages.enrich import Enricher

    enricher = Enricher(load_rules())
    declared = [Declaration.model_validate(x) for x in realistic_lines(lines, seed=seed)]
    out = []
    for n, start in enumerate(range(0, lines, LINES_PER_MESSAGE)):
        chunk = declared[start : start + LINES_PER_MESSAGE]
        ref = RawRef(topic="bench.raw.jsonl", partition=n % PARTITIONS, offset=n // PARTITIONS)
        result = enricher.lines(chunk, ref)
        out.append(
            ENRICHED_BATCH.encode(EnrichedBatch(source="jsonl", raw=ref, lines=result.lines))
        )
    cache.write_text(json.dumps([x.hex() for x in out]))
    return out


class FeedConsumer:
    """Just enough of ``AIOKafkaConsumer`` for the sink: fetches from in-memory partitions,
    all of them at once (``rate`` None) or as they would arrive at ``rate`` lines/s."""

    def __init__(
        self,
        topic: str,
        messages: list[bytes],
        rate: float | None,
        per_fetch: int = 8,
        batch_header: bool = True,
    ) -> None:
        from schemas.codecs import ENRICHED_BATCH
        from schemas.enriched import BATCH_HEADER, WRITER_HEADER, writer_mark
        from schemas.enriched import batch_header as outline

        self._queues: dict[TopicPartition, list[tuple[int, Message]]] = {}
        for n, value in enumerate(messages):
            tp = TopicPartition(topic, n % PARTITIONS)
            queue = self._queues.setdefault(tp, [])
            headers: tuple[tuple[str, bytes], ...] = ((WRITER_HEADER, writer_mark()),)
            if batch_header:
                headers += ((BATCH_HEADER, outline(ENRICHED_BATCH.decode(value))),)
            queue.append((n, Message(len(queue), value, headers)))
        self._topic = topic
        self._rate = rate
        self._per_fetch = per_fetch
        self._started = 0.0
        self.committed: dict[TopicPartition, int] = {}
        self._listener: Any = None

    # the calls the sink makes
    def subscribe(self, topics: Iterable[str], listener: Any) -> None:
        self._listener = listener

    async def start(self) -> None:
        self._started = time.monotonic()
        await self._listener.on_partitions_assigned(set(self._queues))

    async def stop(self) -> None:
        return None

    def assignment(self) -> set[TopicPartition]:
        return set(self._queues)

    def pause(self, *partitions: TopicPartition) -> None:
        return None

    def resume(self, *partitions: TopicPartition) -> None:
        return None

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.update(offsets)

    async def getmany(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Message]]:
        arrived = (
            float("inf")
            if self._rate is None
            else (time.monotonic() - self._started) * self._rate / LINES_PER_MESSAGE
        )
        out: dict[TopicPartition, list[Message]] = {}
        for tp, queue in self._queues.items():
            take = [m for n, m in queue[: self._per_fetch] if n < arrived]
            if take:
                out[tp] = take
                del queue[: len(take)]
        if not out:
            await asyncio.sleep(timeout_ms / 1000)
        else:
            await asyncio.sleep(0)
        return out


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(
    lines: int,
    rate: float | None,
    workdir: Path,
    profile: Path | None,
    batch_header: bool = True,
) -> dict[str, Any]:
    from stream.runtime import tune_gc
    from stream.sink.service import Sink
    from stream.warehouse.async_client import AsyncWarehouse

    messages = enriched_feed(lines)
    settings = Settings(clickhouse={"dsn": f"chdb://{workdir / 'ch'}"})
    warehouse = AsyncWarehouse(settings.clickhouse)
    warehouse.migrate()
    consumer = FeedConsumer(settings.topics.enriched, messages, rate, batch_header=batch_header)

    async def letters(_: list[Any]) -> None:
        return None

    async def scenario() -> dict[str, Any]:
        sink = Sink(
            settings,
            warehouse,
            letters,
            consumer_factory=lambda **_: consumer,
            incarnations=lambda names: dict.fromkeys(names, "bench"),
        )
        tune_gc(settings.worker.gc_thresholds)
        profiler = cProfile.Profile() if profile else None
        cpu, started = cpu_s(), time.perf_counter()
        if profiler:
            profiler.enable()
        task = asyncio.create_task(sink.run())
        while sink.stats.rows < lines:
            await asyncio.sleep(0.01)
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        used, elapsed = cpu_s() - cpu, time.perf_counter() - started
        sink.stop()
        await task
        return {
            "cpu_ms_per_1000_lines": round(used * 1000 / (lines / 1000), 1),
            "seconds": round(elapsed, 2),
            "batches": sink.stats.batches,
        }

    result = asyncio.run(scenario())
    rows = warehouse.sync.query("SELECT count() FROM declarations").rows[0][0]
    warehouse.close()
    return {"lines": lines, "mode": "behind" if rate is None else f"paced {rate}", **result,
            "rows": rows}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--mode", choices=["behind", "paced"], default="behind")
    parser.add_argument("--rate", type=float, default=2400.0, help="lines/s when paced")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here")
    parser.add_argument(
        "--headers",
        choices=["worker", "mark"],
        default="worker",
        help="worker: the writer mark and the batch header, as the worker writes them (the "
        "lines go to ClickHouse unread); mark: the writer mark alone (the lines are read "
        "and written again, as before the batch header)",
    )
    args = parser.parse_args()
    rate = args.rate if args.mode == "paced" else None
    with tempfile.TemporaryDirectory(prefix="cw-sink-cpu-") as tmp:
        result = run(args.lines, rate, Path(tmp), args.profile, args.headers == "worker")
        print(json.dumps({**result, "headers": args.headers}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
