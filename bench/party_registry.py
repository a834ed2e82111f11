"""The party registry's round trip, CPU per 1 000 lines, against a real broker (issue 16).

``python -m bench.party_registry [--lines N] [--repeat R] [--profile out.prof]``

The worker's enricher registers the parties it meets in its :class:`PartyBook`; a thread of
the worker (:class:`stream.worker.parties.PartyRegistryReader`, on a timer) publishes them
to ``<prefix>.party-registry`` / ``<prefix>.party-merges`` and reads back everything
published since its last read, its own events included. That thread shares the worker's
process, so its CPU is the worker's. Here the realistic feed (bench/feed.py) goes through
the parse handler (as in bench/worker_cpu.py, not timed) to fill the book, then, timed as
process CPU (every thread of this process, kafka-python's own included):

* ``publish``: publishing what the book registered;
* ``read own``: the next refresh, which reads those events back;
* ``read other``: a refresh reading what another worker (another feed) published;
* ``idle``: a refresh with nothing new (paid every ``worker.party_refresh_s``).

The broker is the local one (deploy/local_broker.py), started here in a temporary
directory unless ``CUSTOMS_WATCH_KAFKA_BOOTSTRAP`` names one; each repeat uses its own
topics. Figures are per 1 000 lines of the feed that registered the events.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.feed import write_realistic_jsonl
from bench.worker_cpu import Topics, handlers, raw_events
from ingest.broker.admin import create_topics, delete_topics
from schemas.settings import Settings
from stream.stages.party import PartyBook
from stream.worker.parties import PartyRegistryReader

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def broker() -> Iterator[str]:
    """The bootstrap address of a broker to use: the configured one, else a local one."""
    external = os.environ.get("CUSTOMS_WATCH_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    state = tempfile.mkdtemp(prefix="cw-registry-bench-")
    script = [sys.executable, str(ROOT / "deploy" / "local_broker.py")]
    started = subprocess.run(
        [*script, "start", "--state-dir", state], capture_output=True, text=True, check=True
    )
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([*script, "stop", "--state-dir", state], capture_output=True, check=False)


def filled_book(settings: Settings, lines: int, seed: int) -> PartyBook:
    """A worker's book after its parse handler enriched ``lines`` lines of the feed."""
    feed = Path(tempfile.gettempdir()) / f"cw-registry-bench-{lines}-{seed}.jsonl"
    try:
        write_realistic_jsonl(feed, lines, seed)
        raw = raw_events(feed, settings)
    finally:
        feed.unlink(missing_ok=True)
    handle = handlers(settings, Topics())
    take = settings.worker.take_events

    async def parse() -> None:
        for i in range(0, len(raw), take):
            await handle.parse(raw[i : i + take])

    asyncio.run(parse())
    book = handle.stages.enricher.parties
    assert book is not None
    return book


def cpu(call: Callable[[], Any], profiler: cProfile.Profile | None) -> tuple[float, Any]:
    """Process CPU seconds of ``call()`` (all threads), and what it returned."""
    if profiler:
        profiler.enable()
    started = time.process_time()
    out = call()
    spent = time.process_time() - started
    if profiler:
        profiler.disable()
    return spent, out


def one_round(
    bootstrap: str, lines: int, profiler: cProfile.Profile | None
) -> dict[str, tuple[float, int]]:
    """CPU seconds and events per measure, on fresh topics."""
    settings = Settings(
        kafka={"bootstrap": bootstrap},
        topics={"prefix": f"bench{uuid.uuid4().hex[:8]}"},
        screening={"watchlist_dir": Path(tempfile.mkdtemp()) / "none"},
    )
    create_topics(settings)
    ours, theirs = filled_book(settings, lines, 1), filled_book(settings, lines, 2)
    reader, other = PartyRegistryReader(settings, ours), PartyRegistryReader(settings, theirs)
    try:
        out = {}
        out["publish"] = cpu(reader.publish_pending, profiler)
        out["read own"] = cpu(reader.refresh, profiler)
        other.refresh()  # publishes the other worker's events (and reads ours: not timed)
        out["read other"] = cpu(reader.refresh, profiler)
        out["idle"] = cpu(reader.refresh, profiler)
        return out
    finally:
        reader.close()
        other.close()
        delete_topics(settings, settings.topics.all_names())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the timed calls here")
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    rounds = []
    with broker() as bootstrap:
        one_round(bootstrap, 1000, None)  # warm-up: first connections, imports
        for _ in range(args.repeat):
            rounds.append(one_round(bootstrap, args.lines, profiler))
            print(
                "  ".join(
                    f"{k} {s * 1e6 / args.lines:.2f} ({n})" for k, (s, n) in rounds[-1].items()
                ),
                flush=True,
            )
    if profiler:
        profiler.dump_stats(args.profile)
    per_k = args.lines / 1000
    print(f"{args.lines} lines, median of {len(rounds)}, ms CPU per 1 000 lines (events):")
    for name in rounds[0]:
        spent = statistics.median(r[name][0] for r in rounds)
        events = statistics.median(r[name][1] or 0 for r in rounds)
        print(f"  {name:<11} {spent * 1000 / per_k:7.2f}   ({events:.0f} events)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
