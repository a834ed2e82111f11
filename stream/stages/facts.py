"""Cut one batch of enriched lines into per-party fact messages and per-flow value messages.

The stateful rules need all of a party's lines in one place, and all of a category's value
to one destination in another; these messages are keyed so (see ``schemas/facts.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from schemas.alert import Alert
from schemas.declaration import RawRef
from schemas.enriched import EnrichedDeclaration
from schemas.facts import FactBatch, FlowBatch, FlowFact, LineFact
from stream.screening.names import NameNormaliser
from stream.stages.behaviour import period_of


class PartyKeys:
    """The importer's normalised name (``ООО «Вектор-Снаб»`` = ``OOO Vektor-Snab``), else
    the exporter's, else the declaration; remembered per written name (feeds repeat them)."""

    def __init__(self, normalise: NameNormaliser, size: int = 100_000) -> None:
        self.normalise = normalise
        self.size = size
        self._known: dict[str, str] = {}

    def _compact(self, name: str) -> str:
        compact = self._known.get(name)
        if compact is None:
            compact = self.normalise(name).compact
            if len(self._known) < self.size:
                self._known[name] = compact
        return compact

    def __call__(self, line: EnrichedDeclaration) -> str:
        """The importer's party (as resolved when the line was enriched, the id the
        warehouse groups by), else the exporter's, else the declaration; a line enriched
        before party ids existed falls back to the normalised name."""
        for role, party in (("importer", line.importer_party), ("exporter", line.exporter_party)):
            if party:
                return f"{role}:{party}"
        for role, name in (("importer", line.importer_name), ("exporter", line.exporter_name)):
            if name:
                compact = self._compact(name)
                if compact:
                    return f"{role}:{compact}"
        return f"declaration:{line.declaration_id}"


def line_fact(line: EnrichedDeclaration) -> LineFact:
    return LineFact(
        declaration_id=line.declaration_id,
        line_no=line.line_no,
        declared_at=line.declared_at,
        importer_name=line.importer_name,
        importer_country=line.importer_country,
        exporter_name=line.exporter_name,
        exporter_country=line.exporter_country,
        destination_country=line.destination_country,
        categories=list(line.categories),
        chpl_tier=line.chpl_tier,
        value_usd=None if line.value_usd is None else float(line.value_usd),
        description=line.description[:160],
        source=line.source,
        rules_version=line.rules_version,
    )


def fact_batches(
    lines: list[EnrichedDeclaration],
    alerts: list[Alert],
    raw: RawRef,
    party_key: PartyKeys,
) -> list[FactBatch]:
    by_line = defaultdict(list)
    for alert in alerts:
        first = alert.lines[0]
        by_line[(first.declaration_id, first.line_no)].append(alert)
    parties: dict[str, tuple[list[LineFact], list[Alert]]] = {}
    for line in lines:
        facts, candidates = parties.setdefault(party_key(line), ([], []))
        facts.append(line_fact(line))
        candidates.extend(by_line.get((line.declaration_id, line.line_no), ()))
    return [
        FactBatch(party_key=key, raw=raw, lines=facts, candidates=candidates)
        for key, (facts, candidates) in parties.items()
    ]


@dataclass
class _Flow:
    value_usd: float
    lines: int
    first_line: tuple[str, int]


def flow_batches(lines: list[EnrichedDeclaration], raw: RawRef, period: str) -> list[FlowBatch]:
    totals: dict[str, dict[str, _Flow]] = defaultdict(dict)
    source: str | None = None
    rules_version = ""
    for line in lines:
        if line.value_usd is None or not line.destination_country or not line.categories:
            continue
        source, rules_version = line.source, line.rules_version
        label = period_of(line.declared_at, period)
        for category in line.categories:
            flow = totals[f"{category}|{line.destination_country}"].setdefault(
                label, _Flow(0.0, 0, (line.declaration_id, line.line_no))
            )
            flow.value_usd += float(line.value_usd)
            flow.lines += 1
    return [
        FlowBatch(
            flow_key=key,
            raw=raw,
            facts=[
                FlowFact(
                    period=label, value_usd=f.value_usd, lines=f.lines, first_line=f.first_line
                )
                for label, f in sorted(periods.items())
            ],
            source=source,
            rules_version=rules_version,
        )
        for key, periods in totals.items()
    ]
