"""One codec per record kind: the bytes a topic carries ↔ the pydantic model it promises.

Every reader of a topic (agents, sink, CLI, alert consumers) decodes through the codec of
its kind, so a message that is not what its topic promises fails the same way everywhere:
:class:`Undecodable`, a ``ValueError`` whose text names the kind and each failing field,
ready to be a dead letter's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from schemas.alert import Alert, AlertBatch
from schemas.alert_action import AlertAction
from schemas.dead_letter import DeadLetter
from schemas.declaration import DeclarationBatch
from schemas.enriched import EnrichedBatch
from schemas.facts import FactBatch, FlowBatch
from schemas.party import PartyMerge, PartyRegistryEvent
from schemas.raw import RawBatch

Model = TypeVar("Model", bound=BaseModel)


class Undecodable(ValueError):
    """A message that is not the record kind its topic carries."""


def describe_validation_error(exc: ValidationError, limit: int = 5) -> str:
    """One line naming each failing field: ``declared_at: Input should be a valid date; ...``."""
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Codec(Generic[Model]):
    """JSON bytes of one record kind. ``kind`` names it in errors ("a fact batch")."""

    model: type[Model]
    kind: str

    def decode(self, value: bytes | str) -> Model:
        try:
            return self.model.model_validate_json(value)
        except ValidationError as exc:
            raise Undecodable(f"not {self.kind}: {describe_validation_error(exc)}") from exc

    def encode(self, record: Model) -> bytes:
        return record.model_dump_json().encode()


RAW_BATCH = Codec(RawBatch, "a raw batch")
DECLARATION_BATCH = Codec(DeclarationBatch, "a declaration batch")
ENRICHED_BATCH = Codec(EnrichedBatch, "an enriched batch")
FACT_BATCH = Codec(FactBatch, "a fact batch")
FLOW_BATCH = Codec(FlowBatch, "a flow batch")
ALERT = Codec(Alert, "an alert")
ALERT_BATCH = Codec(AlertBatch, "a batch of alert versions")
DEAD_LETTER = Codec(DeadLetter, "a dead letter")
ALERT_ACTION = Codec(AlertAction, "an alert action")
PARTY_REGISTRY = Codec(PartyRegistryEvent, "a party registry event")
PARTY_MERGE = Codec(PartyMerge, "a party merge")


def alert_batch_json(alerts: list[bytes]) -> bytes:
    """``ALERT_BATCH.encode(AlertBatch(alerts=...))`` from the alerts' own encodings
    (``ALERT.encode``), byte for byte (tested): an alert that is both stored and published
    is encoded once."""
    if not alerts:
        raise ValueError("a batch of alert versions holds at least one alert")
    return b'{"alerts":[' + b",".join(alerts) + b"]}"
