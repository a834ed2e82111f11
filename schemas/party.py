"""Party registry and merge events (issue 17), as the topics carry them.

``<prefix>.party-registry`` (compacted): the written names and identifiers each party was
registered with, keyed by the written name (or the identifier), so every worker resolves
against the same registry. ``<prefix>.party-merges`` (compacted, keyed by ``from_party``):
that a party is one with another (``merge``) or no longer is (``split``); the latest event
of a ``from_party`` is the one that holds. The sink lands the merges in ClickHouse
(``party_merges``), whose views resolve every line's party through them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.raw import utc_now


class PartyRegistryEvent(BaseModel):
    """A written name or an identifier registered under a party id."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["name", "identifier"]
    party: str = Field(min_length=1, description="The written party's own id (P + 16 hex).")
    name: str | None = None
    country: str | None = None
    identifier: str | None = Field(
        default=None, description="Registry key of an identifier: ru_inn:7704730655, ..."
    )

    def key(self) -> str:
        if self.kind == "identifier":
            return f"identifier\x00{self.identifier}"
        return f"name\x00{' '.join((self.name or '').split()).casefold()}\x00{self.country or ''}"


class PartyMerge(BaseModel):
    """``from_party`` is one company with ``to_party`` (merge), or no longer (split)."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default="", description="Filled from the content when empty.")
    kind: Literal["merge", "split"]
    from_party: str = Field(min_length=1)
    to_party: str = Field(
        default="", description="Merge: the party it joins. Split: the one it leaves."
    )
    reason: str = ""
    at: datetime = Field(default_factory=utc_now)
    by: str = Field(default="resolver", description="'resolver' or the analyst's name.")

    def model_post_init(self, _context: object) -> None:
        if not self.event_id:
            digest = hashlib.blake2b(
                "\x1f".join(
                    (self.kind, self.from_party, self.to_party, self.reason, self.at.isoformat())
                ).encode(),
                digest_size=12,
            ).hexdigest()
            object.__setattr__(self, "event_id", digest)
