"""Read watchlists in the formats the field uses, yielding entries and rejects with line numbers.

* OpenSanctions ``targets.simple.csv``: columns read by header name (newer exports add
  columns such as ``program_ids``); ``aliases``, ``countries``, ``identifiers``,
  ``addresses``, ``sanctions`` and ``dataset`` are ``;``-separated.
* FollowTheMoney entities, one JSON object per line (``entities.ftm.json`` and the targets
  exports): party schemas are read, other schemas (sanctions, addresses, ownerships) skipped.
  A registry extract in FtM form loads the same way; its ``incorporationDate`` is kept
  (``WatchlistEntry.incorporated``) so ``new_importer_chpl`` can say how long before its
  first sensitive line the company was registered.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from schemas.watchlist import Identifier, WatchlistEntry, WatchlistReject

ListFormat = Literal["csv", "ftm"]

REQUIRED_CSV_COLUMNS = ("id", "schema", "name")
PARTY_SCHEMAS = frozenset({"Person", "Company", "Organization", "LegalEntity", "PublicBody"})
# FollowTheMoney properties that hold registration or tax numbers.
FTM_IDENTIFIER_PROPS = (
    "innCode",
    "ogrnCode",
    "kppCode",
    "okpoCode",
    "registrationNumber",
    "taxNumber",
    "vatCode",
    "leiCode",
    "uscCode",
    "idNumber",
    "passportNumber",
    "swiftBic",
    "dunsCode",
)


@dataclass
class LoadReport:
    """What reading one list gave."""

    entries: int = 0
    names: int = 0
    skipped: int = 0
    rejects: list[WatchlistReject] = field(default_factory=list)


def detect_format(path: Path) -> ListFormat:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.txt")):
        return "csv"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "ftm"
    raise ValueError(f"{path}: cannot tell the list format from the name; use --format")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def read_targets_csv(
    path: Path, dataset: str, report: LoadReport | None = None
) -> Iterator[WatchlistEntry]:
    """Entries of an OpenSanctions ``targets.simple.csv``; bad rows land in ``report``."""
    report = report if report is not None else LoadReport()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a targets.simple.csv (no column {', '.join(missing)})")
        for row in reader:
            line = reader.line_num
            if None in row:
                report.rejects.append(WatchlistReject(line=line, reason="more cells than headers"))
                continue
            schema = (row.get("schema") or "").strip()
            if schema not in PARTY_SCHEMAS:
                if schema:
                    report.skipped += 1
                else:
                    report.rejects.append(WatchlistReject(line=line, reason="schema: empty"))
                continue
            try:
                entry = WatchlistEntry(
                    id=row["id"],
                    dataset=dataset,
                    schema_=schema,
                    name=row["name"],
                    aliases=_split(row.get("aliases")),
                    countries=_split(row.get("countries")),
                    identifiers=[Identifier(value=v) for v in _split(row.get("identifiers"))],
                    addresses=_split(row.get("addresses")),
                    sanctions=_split(row.get("sanctions")),
                    sources=_split(row.get("dataset")),
                    first_seen=row.get("first_seen") or None,
                    last_seen=row.get("last_seen") or None,
                )
            except ValidationError as exc:
                report.rejects.append(WatchlistReject(line=line, reason=_reason(exc)))
                continue
            report.entries += 1
            report.names += len(entry.all_names())
            yield entry


def incorporation_date(values: list[str]) -> date | None:
    """The earliest full date among FtM ``incorporationDate`` values; a year or a month
    alone ("2021", "2021-06") says too little to count days from, so it is left out."""
    days = []
    for value in values:
        try:
            days.append(date.fromisoformat(value[:10]))
        except ValueError:
            continue
    return min(days, default=None)


def _ftm_entry(record: Any, dataset: str) -> WatchlistEntry | None:
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    schema = record.get("schema")
    if schema not in PARTY_SCHEMAS:
        if not schema:
            raise ValueError("schema: missing")
        return None
    props = record.get("properties") or {}
    if not isinstance(props, dict):
        raise ValueError("properties: not an object")

    def values(*names: str) -> list[str]:
        out: list[str] = []
        for name in names:
            for value in props.get(name) or []:
                if isinstance(value, str) and value.strip() and value not in out:
                    out.append(value.strip())
        return out

    names = values("name")
    caption = record.get("caption") or (names[0] if names else "")
    aliases = [n for n in values("name", "alias", "previousName", "weakAlias") if n != caption]
    identifiers = [
        Identifier(value=v, scheme=prop) for prop in FTM_IDENTIFIER_PROPS for v in values(prop)
    ]
    return WatchlistEntry(
        id=record.get("id") or "",
        dataset=dataset,
        schema_=schema,
        name=caption,
        aliases=aliases,
        countries=values("country", "jurisdiction", "nationality", "citizenship", "mainCountry"),
        identifiers=identifiers,
        addresses=values("address"),
        sanctions=values("program", "topics"),
        sources=[d for d in record.get("datasets") or [] if isinstance(d, str)],
        first_seen=record.get("first_seen"),
        last_seen=record.get("last_seen"),
        incorporated=incorporation_date(values("incorporationDate")),
    )


def read_ftm_jsonl(
    path: Path, dataset: str, report: LoadReport | None = None
) -> Iterator[WatchlistEntry]:
    """Entries of a FollowTheMoney JSON-lines file; bad lines land in ``report``."""
    report = report if report is not None else LoadReport()
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                entry = _ftm_entry(orjson.loads(raw), dataset)
            except orjson.JSONDecodeError as exc:
                report.rejects.append(WatchlistReject(line=line, reason=f"not JSON: {exc}"))
                continue
            except ValidationError as exc:
                report.rejects.append(WatchlistReject(line=line, reason=_reason(exc)))
                continue
            except ValueError as exc:
                report.rejects.append(WatchlistReject(line=line, reason=str(exc)))
                continue
            if entry is None:
                report.skipped += 1
                continue
            report.entries += 1
            report.names += len(entry.all_names())
            yield entry


def read_list(
    path: Path,
    dataset: str | None = None,
    fmt: ListFormat | None = None,
    report: LoadReport | None = None,
) -> Iterator[WatchlistEntry]:
    """Entries of a list file in either format; the dataset defaults to the file's stem."""
    name = dataset or dataset_name(path)
    if (fmt or detect_format(path)) == "csv":
        return read_targets_csv(path, name, report)
    return read_ftm_jsonl(path, name, report)


def dataset_name(path: Path) -> str:
    """``sanctions/targets.simple.csv`` → ``sanctions``; ``demo_watchlist.csv`` → itself."""
    stem = path.name.split(".")[0]
    if stem in {"targets", "entities"} and path.parent.name:
        return path.parent.name
    return stem
