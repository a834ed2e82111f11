"""Classify a JSONL file of canonical lines offline: no Kafka, no ClickHouse.

Each line goes through the :class:`Enricher` the stream's ``enrich`` agent calls
(normalise → classify → screen → alert), so a line gets the same result online and offline.
Each output line is the enriched line plus an ``alerts`` list; a line that is not a valid
declaration goes to ``<output>.rejects.jsonl`` with its position and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
from pydantic import ValidationError

from schemas.codecs import describe_validation_error
from schemas.declaration import Declaration
from schemas.rule_data import default_rules, fx_table
from schemas.settings import Settings
from stream.screening.index import WatchlistIndex
from stream.screening.loaders import LoadReport, read_list
from stream.screening.matcher import Screener
from stream.screening.store import load_folder
from stream.stages.enrich import Enricher


@dataclass(slots=True)
class OfflineCounts:
    """What one offline run did, printed as its last line."""

    lines: int = 0
    rejected: int = 0
    alerts: int = 0
    screened_hits: int = 0

    def as_text(self) -> str:
        return (
            f"lines={self.lines} rejected={self.rejected} alerts={self.alerts} "
            f"screened_hits={self.screened_hits}"
        )


def rejects_path(output_path: Path) -> Path:
    return output_path.with_name(output_path.name + ".rejects.jsonl")


def offline_enricher(
    settings: Settings,
    watchlists: Sequence[Path] | None = None,
    report: LoadReport | None = None,
) -> Enricher:
    """The stream's enricher with the packaged rules and the FX rates of the settings,
    screening parties against ``watchlists`` (their rejected lines go to ``report``), or
    else the lists saved in the watchlist folder."""
    rules = default_rules()
    if watchlists:
        entries = [e for path in watchlists for e in read_list(path, report=report)]
        index = WatchlistIndex.build(entries, rules.screening)
    else:
        index = load_folder(settings.screening.watchlist_dir, rules.screening)
    screener = Screener(index, settings.screening.threshold) if len(index) else None
    return Enricher(rules, fx_table(settings.rules.fx_rates), lambda: screener)


def classify_file(enricher: Enricher, input_path: Path, output_path: Path) -> OfflineCounts:
    """Enrich every line of ``input_path`` into ``output_path`` (rejects next to it)."""
    counts = OfflineCounts()
    with (
        input_path.open("rb") as src,
        output_path.open("wb") as out,
        rejects_path(output_path).open("wb") as rejects,
    ):
        for position, raw in enumerate(src, start=1):
            if not raw.strip():
                continue
            try:
                line = Declaration.model_validate_json(raw)
            except ValidationError as exc:
                reason = describe_validation_error(exc)
            else:
                # the stream's own guard: a line any stage raises on is rejected, not fatal
                done = enricher.lines([line])
                if not done.rejected:
                    enriched = done.lines[0]
                    record = enriched.model_dump(mode="json")
                    record["alerts"] = [a.model_dump(mode="json") for a in done.alerts]
                    out.write(orjson.dumps(record) + b"\n")
                    counts.lines += 1
                    counts.alerts += len(done.alerts)
                    counts.screened_hits += len(enriched.screening_hits)
                    continue
                reason = done.rejected[0][1]
            counts.rejected += 1
            reject = {
                "position": position,
                "reason": reason,
                "line": raw.decode("utf-8", "replace"),
            }
            rejects.write(orjson.dumps(reject) + b"\n")
    return counts
