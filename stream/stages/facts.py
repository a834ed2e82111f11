"""Cut one batch of enriched lines into fact messages and flow value messages, one of each
per target partition.

The stateful rules need all of a party's lines in one place, and all of a category's value
to one destination in another; these messages are keyed so (see ``schemas/facts.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from schemas.alert import Alert
from schemas.declaration import RawRef
from schemas.enriched import EnrichedDeclaration
from schemas.facts import (
    FactBatch,
    FlowBatch,
    FlowFact,
    FlowFacts,
    LineFact,
    PartyFacts,
    partition_of,
)
from schemas.trusted import trusted
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
        """The importer's base party id, else the exporter's, else the declaration; a line
        enriched before party ids existed falls back to the normalised name.

        The base id is a function of the line alone (its normalised name and country), the
        id ``declarations`` stores and the party views resolve through merges. Keying the
        stateful rules on the *resolved* party instead would make an alert's key depend on
        which spelling a worker happened to meet first, and the alerts on the order lines
        arrive in (``tests/integration/test_determinism.py``)."""
        for role, party in (
            ("importer", line.importer_party_id),
            ("exporter", line.exporter_party_id),
        ):
            if party:
                return f"{role}:{party}"
        for role, name in (("importer", line.importer_name), ("exporter", line.exporter_name)):
            if name:
                compact = self._compact(name)
                if compact:
                    return f"{role}:{compact}"
        return f"declaration:{line.declaration_id}"


def importer_incorporated(line: EnrichedDeclaration) -> date | None:
    """The earliest registration date among the listed entities the importer matched."""
    return min(
        (
            h.entity_incorporated
            for h in line.screening_hits
            if h.role == "importer" and h.entity_incorporated is not None
        ),
        default=None,
    )


def line_fact(line: EnrichedDeclaration) -> LineFact:
    """The line's facts, from the enriched line's fields (valid already: not validated again)."""
    return trusted(
        LineFact,
        {
            "declaration_id": line.declaration_id,
            "line_no": line.line_no,
            "declared_at": line.declared_at,
            "importer_name": line.importer_name,
            "importer_country": line.importer_country,
            "exporter_name": line.exporter_name,
            "exporter_country": line.exporter_country,
            "destination_country": line.destination_country,
            "categories": list(line.categories),
            "chpl_tier": line.chpl_tier,
            "value_usd": None if line.value_usd is None else float(line.value_usd),
            "source": line.source,
            "rules_version": line.rules_version,
            "importer_incorporated": importer_incorporated(line) if line.screening_hits else None,
        },
    )


def fact_batches(
    lines: list[EnrichedDeclaration],
    alerts: list[Alert],
    raw: RawRef,
    party_key: PartyKeys,
    partitions: int,
) -> list[tuple[int, FactBatch]]:
    """One message per target partition, holding every party of the batch that hashes there."""
    by_line = defaultdict(list)
    for alert in alerts:
        first = alert.lines[0]
        by_line[(first.declaration_id, first.line_no)].append(alert)
    parties: dict[str, tuple[list[LineFact], list[Alert]]] = {}
    for line in lines:
        facts, candidates = parties.setdefault(party_key(line), ([], []))
        facts.append(line_fact(line))
        candidates.extend(by_line.get((line.declaration_id, line.line_no), ()))
    packed: dict[int, list[PartyFacts]] = defaultdict(list)
    for key, (facts, candidates) in parties.items():
        packed[partition_of(key, partitions)].append(
            trusted(PartyFacts, {"party_key": key, "lines": facts, "candidates": candidates})
        )
    # Every party holds a line and every batch a party: valid by construction.
    return [
        (p, trusted(FactBatch, {"raw": raw, "parties": batch}))
        for p, batch in sorted(packed.items())
    ]


@dataclass
class _Flow:
    value_usd: float
    lines: int
    first: tuple[date, str, int]
    last: date


def flow_batches(
    lines: list[EnrichedDeclaration], raw: RawRef, period: str, partitions: int
) -> list[tuple[int, FlowBatch]]:
    """Value per category × destination and period, one message per target partition."""
    totals: dict[str, dict[str, _Flow]] = defaultdict(dict)
    source: str | None = None
    rules_version = ""
    for line in lines:
        if line.value_usd is None or not line.destination_country or not line.categories:
            continue
        source, rules_version = line.source, line.rules_version
        label = period_of(line.declared_at, period)
        order = (line.declared_at, line.declaration_id, line.line_no)
        for category in line.categories:
            periods = totals[f"{category}|{line.destination_country}"]
            flow = periods.get(label)
            if flow is None:
                periods[label] = flow = _Flow(0.0, 0, order, line.declared_at)
            flow.value_usd += float(line.value_usd)
            flow.lines += 1
            flow.first = min(flow.first, order)
            flow.last = max(flow.last, line.declared_at)
    packed: dict[int, list[FlowFacts]] = defaultdict(list)
    for key, periods in totals.items():
        facts = [
            FlowFact(
                period=label,
                value_usd=f.value_usd,
                lines=f.lines,
                first_line=(f.first[1], f.first[2]),
                first_seen=f.first[0],
                last_seen=f.last,
            )
            for label, f in sorted(periods.items())
        ]
        packed[partition_of(key, partitions)].append(FlowFacts(flow_key=key, facts=facts))
    return [
        (p, FlowBatch(raw=raw, flows=flows, source=source, rules_version=rules_version))
        for p, flows in sorted(packed.items())
    ]
