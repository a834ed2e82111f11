"""Screen every party on a line against the loaded watchlists.

Parties: exporter, importer, manufacturer, and the notify party and declarant when a feed
gives them. Each party is screened by identifier and by name (with its country when known);
the :class:`~stream.screening.matcher.Screener` caches results per distinct name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from schemas.declaration import Declaration
from schemas.enriched import ScreeningHit
from stream.screening.index import ListedEntity
from stream.screening.matcher import Match

# (role, name field, country field, identifier field, address field)
PARTIES: tuple[tuple[str, str, str | None, str | None, str | None], ...] = (
    ("exporter", "exporter_name", "exporter_country", "exporter_id", "exporter_address"),
    ("importer", "importer_name", "importer_country", "importer_id", "importer_address"),
    ("manufacturer", "manufacturer", None, None, None),
    ("notify", "notify_name", "notify_country", "notify_id", None),
    ("declarant", "declarant_name", "declarant_country", "declarant_id", None),
)


class ListedEntities(Protocol):
    @property
    def entities(self) -> Sequence[ListedEntity]: ...


class PartyScreener(Protocol):
    """What this stage asks of a screener: :class:`~stream.screening.matcher.Screener`, or
    any object with these (a protocol, so the compiled stage takes a stand-in too)."""

    @property
    def index(self) -> ListedEntities: ...

    def screen(
        self, name: str | None, country: str | None = None, identifier: str | None = None
    ) -> list[Match]: ...

    def screen_address(self, address: str | None) -> list[Match]: ...


ScreenerSource = Callable[[], PartyScreener | None]


def screen_parties(
    line: Declaration, screener: PartyScreener, countries: dict[str, str | None] | None = None
) -> list[ScreeningHit]:
    """Hits for every party of ``line``; ``countries`` overrides the line's country fields
    with their normalised ISO2 values."""
    hits: list[ScreeningHit] = []
    entities = screener.index.entities
    for role, name_field, country_field, id_field, address_field in PARTIES:
        name: str | None = getattr(line, name_field)
        identifier: str | None = getattr(line, id_field) if id_field else None
        address: str | None = getattr(line, address_field) if address_field else None
        if not name and not identifier and not address:
            continue
        country: str | None = None
        if country_field:
            country = (countries or {}).get(country_field, getattr(line, country_field))
        matches = screener.screen(name, country, identifier)
        named = {m.entity for m in matches}
        matches += [m for m in screener.screen_address(address) if m.entity not in named]
        for match in matches:
            entity = entities[match.entity]
            hits.append(
                ScreeningHit(
                    role=role,
                    party_name=name or identifier or address or "",
                    party_country=country,
                    dataset=entity.dataset,
                    entity_id=entity.id,
                    entity_name=entity.caption,
                    entity_schema=entity.schema,
                    matched_name=match.matched_name,
                    matched_by="identifier"
                    if match.by_identifier
                    else "address"
                    if match.by_address
                    else "name",
                    score=match.score,
                    explanation=match.explanation,
                    entity_incorporated=entity.incorporated,
                )
            )
    return hits
