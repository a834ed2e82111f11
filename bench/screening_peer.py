"""OpenSanctions' nomenklatura `logic-v1` matcher on our labelled screening pairs.

Each pair's query is compared with its one labelled list entry (no index, no candidate
search) by `LogicV1.compare`; a pair is predicted-match when the score reaches the threshold
(0.70, yente's default cut-off and ours). Measured: precision, recall, and pairs compared per
second on one core, timing only the `compare` calls, not building the FtM entities.

Identifiers go into `registrationNumber`, an `identifier`-typed property that logic-v1's
`identifier_match` (and the `orgid_disjoint` penalty) compare whatever the number's kind; its
`innCode`/`ogrnCode` features would need each number's kind, which the pairs file lacks.

The timing is the best of `repeat` passes over all pairs. Before each pass the bounded memo
caches (`functools.lru_cache` with a maxsize) of nomenklatura and the libraries it calls are
emptied, so every pass does the work that names it has not seen would need; the unbounded
caches that hold loaded reference data stay warm, loaded by the untimed scoring pass.
"""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from followthemoney import EntityProxy, model
from nomenklatura.matching import LogicV1

from stream.screening.pairs import Pair, PairScores, read_pairs

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "screening_pairs.jsonl"
MEMO_MODULES = ("nomenklatura", "followthemoney", "rigour", "fingerprints", "normality")


@dataclass
class PeerResult(PairScores):
    """The same counts as our matcher's, plus how long the peer took."""

    pairs: int = 0
    seconds: float = 0.0  # best of `repeat` timed passes over all pairs

    @property
    def pairs_per_second(self) -> float:
        return self.pairs / self.seconds if self.seconds else float("inf")


def _entity(
    schema: str, names: list[str], countries: list[str], identifiers: list[str]
) -> EntityProxy:
    entity = model.make_entity(schema)
    entity.add("name", names[:1])
    entity.add("alias", names[1:])
    entity.add("country", countries)
    entity.add("registrationNumber", identifiers)
    return entity


def build_peer_entities(pairs: Sequence[Pair]) -> list[tuple[EntityProxy, EntityProxy]]:
    """(query, list entry) FtM entities for each pair, in order."""
    built = []
    for pair in pairs:
        q, e = pair.query, pair.entry
        query = _entity(
            "Person" if e.schema_ == "Person" else "LegalEntity",
            [q.name],
            [q.country.lower()] if q.country else [],
            [q.identifier] if q.identifier else [],
        )
        entry = _entity(e.schema_, [e.name, *e.aliases], e.countries, e.identifiers)
        entry.id = e.id
        built.append((query, entry))
    return built


def clear_memo_caches() -> None:
    for obj in gc.get_objects():
        if (
            isinstance(obj, functools._lru_cache_wrapper)
            and obj.cache_info().maxsize is not None
            and getattr(obj, "__module__", "").startswith(MEMO_MODULES)
        ):
            obj.cache_clear()


def score_with_nomenklatura(
    pairs: Sequence[Pair], threshold: float = 0.7, repeat: int = 3
) -> PeerResult:
    entities = build_peer_entities(pairs)
    config = LogicV1.default_config()
    tp = fp = fn = tn = 0
    for pair, (query, entry) in zip(pairs, entities, strict=True):
        hit = LogicV1.compare(query, entry, config).score >= threshold
        tp += hit and pair.should_match
        fp += hit and not pair.should_match
        fn += not hit and pair.should_match
        tn += not hit and not pair.should_match
    best = float("inf")
    for _ in range(max(repeat, 1)):
        clear_memo_caches()
        started = time.perf_counter()
        for query, entry in entities:
            LogicV1.compare(query, entry, config)
        best = min(best, time.perf_counter() - started)
    return PeerResult(tp=tp, fp=fp, fn=fn, tn=tn, pairs=len(pairs), seconds=best)


def screen_with_nomenklatura(
    pairs: Sequence[Pair],
    threshold: float = 0.7,
    candidates: Callable[[Pair], Iterable[str]] | None = None,
) -> PeerResult:
    """Screen each pair's query against a list, as a screening service must.

    The list is every distinct entry of the pairs file. Without ``candidates`` the query is
    compared with every entry (nomenklatura has no in-memory blocking index of its own for
    this; yente puts Elasticsearch in front of it); with ``candidates`` (entry ids for a
    pair, e.g. from our index) only with those. A pair counts as predicted-match when its
    entry scores at or above the threshold. One timed pass, caches emptied first.
    """
    built = build_peer_entities(pairs)
    entries: dict[str, EntityProxy] = {}
    for pair, (_, entry) in zip(pairs, built, strict=True):
        entries.setdefault(pair.entry.id, entry)
    config = LogicV1.default_config()
    plans = [
        (pair, query, list(candidates(pair)) if candidates else list(entries))
        for pair, (query, _) in zip(pairs, built, strict=True)
    ]
    clear_memo_caches()
    tp = fp = fn = tn = 0
    started = time.perf_counter()
    for pair, query, ids in plans:
        matched = {i for i in ids if LogicV1.compare(query, entries[i], config).score >= threshold}
        hit = pair.entry.id in matched
        tp += hit and pair.should_match
        fp += hit and not pair.should_match
        fn += not hit and pair.should_match
        tn += not hit and not pair.should_match
    seconds = time.perf_counter() - started
    return PeerResult(tp=tp, fp=fp, fn=fn, tn=tn, pairs=len(pairs), seconds=seconds)


if __name__ == "__main__":
    r = score_with_nomenklatura(read_pairs(PAIRS))
    print(
        f"nomenklatura logic_v1: pairs={r.pairs} precision={r.precision:.3f} "
        f"recall={r.recall:.3f} pairs/s={r.pairs_per_second:.0f}"
    )
