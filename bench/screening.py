"""Sanctions screening: speed and memory on a large synthetic list, quality against a peer.

1. A synthetic list of --names names (default 1 000 000) is saved to a watchlist folder the
   way `customs-watch watchlist load` saves one, then loaded as the worker loads it. Reported:
   build seconds, process RSS after the build (the worker also holds the classifier tables,
   built first so they are included), and per-name screening time on --queries distinct
   names (about 30 % variants of listed names, the rest unlisted), cache off: median, p99,
   names/s on one core.
2. On tests/data/screening_pairs.jsonl, in the same run: our matcher and OpenSanctions'
   nomenklatura logic_v1 (installed by the `bench` extra): precision, recall, names/s, and
   the speed ratios. Ours screens each query against an index of every entry in the file.
   nomenklatura is measured three ways: each query against its one labelled entry (no search
   at all, which flatters it), against every entry (what it does without a search engine in
   front), and against the candidates our index returns (same blocking, scoring compared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.synthetic_watchlist import queries, synthetic_entries
from schemas.rule_data import default_rules
from schemas.watchlist import WatchlistEntry
from stream.screening.index import identifier_key
from stream.screening.matcher import Screener
from stream.screening.pairs import Pair, pairs_index, read_pairs, score_pairs
from stream.screening.store import WatchedScreener, save_list
from stream.stages.enrich import Enricher

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "data" / "screening_pairs.jsonl"
RESULTS = ROOT / "bench" / "results"


def rss_mib() -> tuple[float, float]:
    """Current and peak resident set size of this process, MiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def large_list(names: int, query_count: int) -> dict[str, Any]:
    rules = default_rules()
    no_cache = rules.screening.model_copy(update={"cache_size": 0})
    Enricher(rules)  # the worker's other tables, so the RSS below is a worker's
    sample: list[WatchlistEntry] = []
    rng = random.Random(3)

    def keep_sample(entries: Any) -> Any:
        for seen, entry in enumerate(entries, start=1):
            if len(sample) < 5000:
                sample.append(entry)
            elif rng.random() < 5000 / seen:
                sample[rng.randrange(5000)] = entry
            yield entry

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        _, entities = save_list(keep_sample(synthetic_entries(names)), "synthetic", Path(folder))
        generated = time.perf_counter() - started
        before, _ = rss_mib()
        started = time.perf_counter()
        watched = WatchedScreener(Path(folder), no_cache)
        built = time.perf_counter() - started
        after, peak = rss_mib()
    assert watched.current is not None
    screener = watched.current
    index = screener.index
    asked = queries(sample, query_count)
    timings = []
    listed_found = 0
    for name, listed in asked:
        t0 = time.perf_counter_ns()
        matches = screener.screen(name)
        timings.append(time.perf_counter_ns() - t0)
        listed_found += bool(listed and matches)
    timings.sort()
    listed_total = sum(1 for _, listed in asked if listed)
    peer = peer_on_candidates(screener, [name for name, _ in asked[:2000]])
    names_per_s = len(timings) / (sum(timings) / 1e9)
    if "nomenklatura_on_our_candidates_names_per_s" in peer:
        peer["speed_ratio_same_candidates"] = round(
            names_per_s / peer["nomenklatura_on_our_candidates_names_per_s"], 1
        )
    return {
        **peer,
        "entities": entities,
        "names": index.name_count,
        "generate_and_save_s": round(generated, 1),
        "index_build_s": round(built, 1),
        "rss_before_index_mib": round(before),
        "rss_after_index_mib": round(after),
        "rss_peak_mib": round(peak),
        "queries": len(asked),
        "median_us": round(statistics.median(timings) / 1000, 1),
        "p99_us": round(timings[int(len(timings) * 0.99)] / 1000, 1),
        "names_per_s": round(names_per_s),
        "listed_variants_found": f"{listed_found}/{listed_total}",
    }


def peer_on_candidates(screener: Screener, names: list[str]) -> dict[str, Any]:
    """nomenklatura logic_v1 scoring the same candidates our index finds, per query name."""
    try:
        from followthemoney import model
        from nomenklatura.matching import LogicV1

        from bench.screening_peer import clear_memo_caches
    except ImportError:
        return {"nomenklatura": "not installed; pip install -e '.[bench]'"}
    index = screener.index
    config = LogicV1.default_config()
    plans = []
    for name in names:
        query = model.make_entity("LegalEntity")
        query.add("name", name)
        listed = []
        for name_no in index.candidates(index.normalise(name)):
            entity = index.entities[index.name_entity[name_no]]
            candidate = model.make_entity(entity.schema)
            candidate.add("name", index.name_text[name_no])
            candidate.add("country", sorted(entity.countries))
            listed.append(candidate)
        plans.append((query, listed))
    clear_memo_caches()
    started = time.perf_counter()
    for query, listed in plans:
        for candidate in listed:
            LogicV1.compare(query, candidate, config)
    seconds = time.perf_counter() - started
    compared = sum(len(listed) for _, listed in plans)
    return {
        "nomenklatura_on_our_candidates_names_per_s": round(len(plans) / seconds),
        "candidates_per_name": round(compared / len(plans), 1),
    }


def pairs_comparison(repeat: int) -> dict[str, Any]:
    pairs = read_pairs(PAIRS)
    rules = default_rules().screening.model_copy(update={"cache_size": 0})
    screener = Screener(pairs_index(pairs, rules))
    scores = score_pairs(pairs, screener)
    try:
        from bench.screening_peer import clear_memo_caches
    except ImportError:

        def clear_memo_caches() -> None:
            return None

    best = float("inf")
    for _ in range(repeat):
        # cold caches for both matchers: ours memoises folded words; rigour has LRU caches
        screener.index.normalise.forget()
        clear_memo_caches()
        started = time.perf_counter()
        for pair in pairs:
            screener.screen(pair.query.name, pair.query.country, pair.query.identifier)
        best = min(best, time.perf_counter() - started)
    ours = {
        "precision": round(scores.precision, 3),
        "recall": round(scores.recall, 3),
        "names_per_s": round(len(pairs) / best),
    }
    out: dict[str, Any] = {"pairs": len(pairs), "customs_watch": ours}
    try:
        from bench.screening_peer import score_with_nomenklatura, screen_with_nomenklatura
    except ImportError as exc:
        out["nomenklatura"] = f"not installed ({exc}); pip install -e '.[bench]'"
        return out
    index = screener.index

    def our_candidates(pair: Pair) -> set[str]:
        """The entities our index would have a matcher score for this query."""
        form = index.normalise(pair.query.name)
        ids = {index.entities[index.name_entity[n]].id for n in index.candidates(form)}
        if pair.query.identifier:
            key = identifier_key(pair.query.identifier)
            ids.update(index.entities[e].id for e, _ in index.identifiers.get(key, ()))
        return ids

    def summary(result: Any, rate: float) -> dict[str, Any]:
        return {
            "precision": round(result.precision, 3),
            "recall": round(result.recall, 3),
            "names_per_s": round(rate),
        }

    pairwise = score_with_nomenklatura(pairs, threshold=rules.threshold, repeat=repeat)
    whole = screen_with_nomenklatura(pairs, threshold=rules.threshold)
    blocked = screen_with_nomenklatura(pairs, rules.threshold, our_candidates)
    out["nomenklatura_logic_v1"] = {
        "each_query_vs_its_one_entry": summary(pairwise, pairwise.pairs_per_second),
        f"each_query_vs_all_{len(index)}_entries": summary(whole, whole.pairs_per_second),
        "each_query_vs_our_candidates": summary(blocked, blocked.pairs_per_second),
    }
    out["speed_ratio"] = {
        "vs_one_entry_per_query": round(ours["names_per_s"] / pairwise.pairs_per_second, 1),
        "vs_all_entries": round(ours["names_per_s"] / whole.pairs_per_second, 1),
        "vs_our_candidates": round(ours["names_per_s"] / blocked.pairs_per_second, 1),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, default=1_000_000, help="0 skips the large list")
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        # the large list first: the peer's imports would otherwise count in the RSS
        "large_list": large_list(args.names, args.queries) if args.names else "skipped",
        "pairs": pairs_comparison(args.repeat),
    }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"screening-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
