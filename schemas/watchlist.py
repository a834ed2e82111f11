"""Watchlist entries (sanctioned or otherwise listed parties) as the screening stage reads them.

Loaders turn OpenSanctions ``targets.simple.csv`` rows and FollowTheMoney entities into
:class:`WatchlistEntry`; ``customs-watch watchlist load`` stores them, one JSON object per line.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PartySchema = Literal["Person", "Company", "Organization", "LegalEntity", "PublicBody"]


class Identifier(BaseModel):
    """A registration, tax or other number that names one legal person."""

    model_config = ConfigDict(frozen=True)

    value: str = Field(min_length=1)
    scheme: str | None = Field(
        default=None, description="innCode, ogrnCode, registrationNumber, … when known."
    )


class WatchlistEntry(BaseModel):
    """One listed party with every name it is known by."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, populate_by_name=True)

    id: str = Field(min_length=1)
    dataset: str = Field(min_length=1, description="The list it was loaded from.")
    schema_: PartySchema = Field(alias="schema")
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list, description="ISO 3166 alpha-2, lower.")
    identifiers: list[Identifier] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    sanctions: list[str] = Field(default_factory=list)
    sources: list[str] = Field(
        default_factory=list, description="The publisher's own dataset names, when given."
    )
    first_seen: str | None = None
    last_seen: str | None = None
    incorporated: date | None = Field(
        default=None,
        description="The registration date a list or registry extract gives "
        "(FtM incorporationDate); the earliest when it gives several.",
    )

    @field_validator("countries")
    @classmethod
    def _lower_codes(cls, value: list[str]) -> list[str]:
        return [c.strip().lower() for c in value if c.strip()]

    def all_names(self) -> list[str]:
        """The name first, then each distinct alias."""
        seen = {self.name}
        names = [self.name]
        for alias in self.aliases:
            if alias and alias not in seen:
                seen.add(alias)
                names.append(alias)
        return names


class WatchlistReject(BaseModel):
    """A list record that could not be loaded, with where it was and why."""

    model_config = ConfigDict(frozen=True)

    line: int
    reason: str
