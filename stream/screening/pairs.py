"""Measure the matcher on labelled (query, list entry, should_match) pairs.

Every distinct entry of the pairs file goes into one index, as a list would; a pair counts
as predicted-match when screening its query returns its entry. So candidate generation,
scoring and the threshold are measured together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from schemas.rule_data import ScreeningRules
from schemas.watchlist import Identifier, WatchlistEntry
from stream.screening.index import WatchlistIndex
from stream.screening.matcher import Screener


class PairQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    country: str | None = None
    identifier: str | None = None


class PairEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    schema_: str = Field(default="Company", alias="schema")
    name: str
    aliases: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    identifiers: list[str] = Field(default_factory=list)

    def watchlist_entry(self) -> WatchlistEntry:
        return WatchlistEntry.model_validate(
            {
                "id": self.id,
                "dataset": "pairs",
                "schema": self.schema_,
                "name": self.name,
                "aliases": self.aliases,
                "countries": self.countries,
                "identifiers": [Identifier(value=v) for v in self.identifiers],
            }
        )


class Pair(BaseModel):
    model_config = ConfigDict(frozen=True)

    query: PairQuery
    entry: PairEntry
    should_match: bool
    kind: str = ""


@dataclass
class PairScores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def read_pairs(path: Path) -> list[Pair]:
    pairs = []
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if raw.strip():
                try:
                    pairs.append(Pair.model_validate_json(raw))
                except ValueError as exc:
                    raise ValueError(f"{path}:{line_no}: {exc}") from exc
    return pairs


def pairs_index(pairs: list[Pair], rules: ScreeningRules) -> WatchlistIndex:
    entries: dict[str, WatchlistEntry] = {}
    for pair in pairs:
        entry = pair.entry.watchlist_entry()
        if entries.setdefault(entry.id, entry) != entry:
            raise ValueError(f"entry {entry.id} appears with different contents")
    return WatchlistIndex.build(entries.values(), rules)


def score_pairs(pairs: list[Pair], screener: Screener) -> PairScores:
    scores = PairScores()
    entities = screener.index.entities
    for pair in pairs:
        q = pair.query
        matches = screener.screen(q.name, q.country, q.identifier)
        hit = next((m for m in matches if entities[m.entity].id == pair.entry.id), None)
        if hit and pair.should_match:
            scores.tp += 1
        elif hit:
            scores.fp += 1
        elif pair.should_match:
            scores.fn += 1
        else:
            scores.tn += 1
        if bool(hit) != pair.should_match:
            scores.misses.append(
                {
                    "kind": pair.kind,
                    "query": q.name,
                    "entry": pair.entry.name,
                    "expected": pair.should_match,
                    "score": hit.score if hit else None,
                    "why": hit.explanation if hit else "",
                }
            )
    return scores


def format_misses(scores: PairScores) -> str:
    return "\n".join(orjson.dumps(m).decode() for m in scores.misses)
