"""The worker's CPU per 1 000 lines, in-process: its agents' handlers without faust (issue 16).

``python -m bench.worker_cpu [--lines N] [--profile out.prof] [--digest]``

The realistic feed (bench/feed.py) is cut into raw batches as ``ingest jsonl`` cuts it, then
handed to the same :class:`stream.worker.agents.Handlers` methods the faust agents call, in
groups of ``take_events``: ``parse`` (parse, enrich, facts, flows), then ``alerts`` and
``flows`` on the messages those produced. Topics are stand-ins that keep what is sent, and
tables are dicts; no broker, no faust runtime, so the figure is our stages' CPU alone
(process CPU time, low noise). ``--digest`` prints a hash of everything sent (enriched
lines, facts, flows, alert versions, alerts, dead letters) with the wall-clock stamps
removed: a change that should not alter results must keep it. ``--as-workers N`` hands each
of N sets of handlers (their own caches and party registries, nothing exchanged) the raw
batches the N workers of ``bench.pipeline --workers N`` get (the file in 8 chunks over 4
partitions), one after the other, and sums their CPU: what splitting costs our stages.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import hashlib
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.feed import write_realistic_jsonl
from ingest.connectors.base import batches
from ingest.connectors.jsonl import JsonlConnector
from schemas.rule_data import default_rules, fx_table
from schemas.settings import Settings
from stream.runtime import tune_gc
from stream.screening.names import NameNormaliser
from stream.screening.store import WatchedScreener
from stream.stages.enrich import Enricher, party_book
from stream.stages.facts import PartyKeys
from stream.stages.parse import TabularReader
from stream.worker.agents import Handlers, Stages, Tables

VOLATILE = {"enriched_at", "received_at", "created_at", "updated_at", "written_at", "at"}


@dataclass
class Message:
    topic: str
    partition: int
    offset: int

    def incref(self) -> None:
        pass


@dataclass
class Event:
    value: bytes
    key: bytes | None
    message: Message


@dataclass
class Topic:
    """Keeps what is sent, as the partition it would go to reads it."""

    name: str
    sent: list[tuple[bytes | None, bytes, int | None]] = field(default_factory=list)

    async def send(
        self,
        key: bytes | None = None,
        value: bytes = b"",
        partition: int | None = None,
        headers: Any = None,
    ) -> None:
        self.sent.append((key, value, partition))


@dataclass
class Topics:
    declarations: Topic = field(default_factory=lambda: Topic("declarations"))
    enriched: Topic = field(default_factory=lambda: Topic("enriched"))
    facts: Topic = field(default_factory=lambda: Topic("facts"))
    flows: Topic = field(default_factory=lambda: Topic("flows"))
    alert_versions: Topic = field(default_factory=lambda: Topic("alert-versions"))
    alerts: Topic = field(default_factory=lambda: Topic("alerts"))
    deadletter: Topic = field(default_factory=lambda: Topic("deadletter"))


def spoil(feed: Path) -> None:
    lines = feed.read_bytes().splitlines(keepends=True)
    for n, bad in enumerate((b"{not json\n", b"[1, 2]\n", b'{"declaration_id": "x"}\n')):
        lines[(n + 1) * len(lines) // 4] = bad
    feed.write_bytes(b"".join(lines))


def raw_events(feed: Path, settings: Settings) -> list[Event]:
    connector = JsonlConnector(feed, "jsonl", settings.ingest)
    limits = settings.ingest
    topic = settings.topics.raw("jsonl")
    return [
        Event(batch.model_dump_json().encode(), None, Message(topic, 0, offset))
        for offset, batch in enumerate(
            batches(connector.records(), limits.batch_records, limits.batch_bytes, {})
        )
    ]


def as_workers(raw: list[Event], lines: int, workers: int, chunks: int = 8) -> list[list[Event]]:
    """The raw batches each of ``workers`` workers gets when the file is cut into ``chunks``
    chunks over 4 partitions (chunk ``c`` on partition ``c % 4``) and the partitions are
    shared evenly, in order (``bench.pipeline --workers N``)."""
    chunk_lines = max(1000, -(-lines // chunks))
    per_batch = -(-lines // len(raw))
    groups: list[list[Event]] = [[] for _ in range(workers)]
    for n, event in enumerate(raw):
        partition = (n * per_batch // chunk_lines) % 4
        groups[partition * workers // 4].append(event)
    return [g for g in groups if g]


def handlers(settings: Settings, topics: Topics) -> Handlers:
    rules = default_rules()
    book = party_book(rules)
    watched = WatchedScreener(
        settings.screening.watchlist_dir, rules.screening, settings.screening.threshold
    )
    stages = Stages(
        watched=watched,
        enricher=Enricher(
            rules, fx_table(settings.rules.fx_rates), lambda: watched.current, parties=book
        ),
        party_names=PartyKeys(NameNormaliser(rules.screening)),
        tabular=TabularReader(lambda name: (_ for _ in ()).throw(KeyError(name))),
    )
    return Handlers(topics, stages, Tables({}, {}, {}), rules, settings)  # type: ignore[arg-type]


def as_events(topic: Topic) -> list[Event]:
    return [
        Event(value, key, Message(topic.name, partition or 0, offset))
        for offset, (key, value, partition) in enumerate(topic.sent)
    ]


async def run(handle: Handlers, raw: list[Event], take: int) -> dict[str, float]:
    """CPU seconds per agent; each agent drains its input in groups of ``take``."""
    cpu: dict[str, float] = {}
    topics = handle.topics
    stages: list[tuple[str, Any, Topic | None]] = [
        ("parse", handle.parse, None),
        ("alerts", handle.alerts, topics.facts),
        ("flows", handle.flows, topics.flows),
    ]
    for name, method, source in stages:
        todo = raw if source is None else as_events(source)
        started = time.process_time()
        for i in range(0, len(todo), take):
            await method(todo[i : i + take])
        cpu[name] = time.process_time() - started
    return cpu


TODAY = datetime.now(UTC).date().isoformat()


def _scrub(value: Any) -> Any:
    """Without the stamps of the run's own clock (the feed's dates are in 2024)."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str) and value.startswith(TODAY):
        return "now"
    return value


def digest(topics: Topics) -> dict[str, str]:
    out = {}
    for name, topic in vars(topics).items():
        h = hashlib.sha256()
        for key, value, partition in topic.sent:
            h.update(repr((key, partition)).encode())
            h.update(orjson.dumps(_scrub(orjson.loads(value)), option=orjson.OPT_SORT_KEYS))
        out[name] = f"{len(topic.sent)}:{h.hexdigest()[:16]}"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the run here")
    parser.add_argument("--digest", action="store_true", help="hash everything sent")
    parser.add_argument(
        "--as-workers",
        type=int,
        default=1,
        help="split the batches as N workers get them, one set of handlers each (no digest)",
    )
    args = parser.parse_args()
    if args.as_workers > 1 and (args.digest or args.profile):
        parser.error("--as-workers runs without --digest and --profile")
    settings = Settings(screening={"watchlist_dir": Path(tempfile.mkdtemp()) / "none"})
    # A fixed path: the origin is in the dead letters, and the digest must not move with it.
    feed = Path(tempfile.gettempdir()) / f"cw-worker-cpu-{args.lines}-{args.seed}.jsonl"
    try:
        write_realistic_jsonl(feed, args.lines, args.seed)
        if args.digest:  # a few lines that must become dead letters
            spoil(feed)
        raw = raw_events(feed, settings)
    finally:
        feed.unlink(missing_ok=True)
    groups = as_workers(raw, args.lines, args.as_workers) if args.as_workers > 1 else [raw]
    built = [(Topics(), group) for group in groups]
    handles = [(handlers(settings, topics), group) for topics, group in built]
    topics = built[0][0]
    tune_gc(settings.worker.gc_thresholds)  # as the worker does, once loaded
    gc_spent = [0.0, 0.0]

    def gc_clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_spent[1] = time.process_time()
        else:
            gc_spent[0] += time.process_time() - gc_spent[1]

    gc.callbacks.append(gc_clock)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    cpu: dict[str, float] = {}
    for handle, group in handles:
        for name, spent in asyncio.run(run(handle, group, settings.worker.take_events)).items():
            cpu[name] = cpu.get(name, 0.0) + spent
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    per_k = args.lines / 1000
    total = sum(cpu.values())
    parts = "  ".join(f"{k} {v * 1000 / per_k:.1f}" for k, v in cpu.items())
    split = f" as {len(groups)} workers {[len(g) for g in groups]}" if len(groups) > 1 else ""
    print(f"{args.lines} lines{split}: {total * 1000 / per_k:.1f} ms CPU / 1 000 lines  ({parts})")
    collections = [s["collections"] for s in gc.get_stats()]
    print(f"gc: {gc_spent[0] * 1000 / per_k:.1f} ms / 1 000 lines, collections {collections}")
    if args.digest:
        for name, value in digest(topics).items():
            print(f"  {name:<15} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
