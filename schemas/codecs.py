"""One codec per record kind: the bytes a topic carries ↔ the pydantic model it promises.

Every reader of a topic (agents, sink, CLI, alert consumers) decodes through the codec of
its kind, so a message that is not what its topic promises fails the same way everywhere:
:class:`Undecodable`, a ``ValueError`` whose text names the kind and each failing field,
ready to be a dead letter's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson
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


class _NotPlain(TypeError):
    """A value :func:`_plain` cannot write as pydantic would: pydantic writes the record."""


_PLAIN: dict[type[BaseModel], bool] = {}


_SERIALISATION_KEYS = ("serialization", "serialization_alias", "serialization_exclude")


def _is_plain(cls: type[BaseModel]) -> bool:
    """Does pydantic write this model as exactly its ``__dict__``: no extra fields, no
    computed fields, and nowhere in its schema a serialiser of its own (``PlainSerializer``
    on a field's type, ``field_serializer``), an alias, an excluded field, or a field typed
    with a model that has subclasses (pydantic writes a subclass's instance with the
    declared class's fields only; its ``__dict__`` holds more)?"""
    if cls.model_config.get("extra") == "allow" or cls.__pydantic_computed_fields__:
        return False
    todo: list[Any] = [cls.__pydantic_core_schema__]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if any(node.get(key) for key in _SERIALISATION_KEYS):
                return False
            if node.get("type") == "model" and node["cls"].__subclasses__():
                return False
            todo.extend(node.values())
        elif isinstance(node, list | tuple):
            todo.extend(node)
    return True


def _plain(value: Any) -> Any:
    """orjson's fallback for what it does not write itself: a plain model as its fields, a
    Decimal as its text (both as pydantic writes them)."""
    if isinstance(value, BaseModel):
        cls = type(value)
        plain = _PLAIN.get(cls)
        if plain is None:
            plain = _PLAIN[cls] = _is_plain(cls)
        if plain:
            return value.__dict__
    elif isinstance(value, Decimal):
        return str(value)
    raise _NotPlain(type(value).__name__)


def to_json(record: BaseModel) -> bytes:
    """The bytes ``record.model_dump_json()`` gives, written by orjson where it can (about
    twice as fast on the worker's batches); pydantic writes whatever orjson refuses (an
    integer past 64 bits, a lone surrogate, a model that is not plain). Equality with
    pydantic's bytes is tested on every record kind the worker writes."""
    try:
        return orjson.dumps(record, default=_plain, option=orjson.OPT_UTC_Z)
    except TypeError:  # orjson.JSONEncodeError and _NotPlain are TypeErrors
        return record.model_dump_json().encode()


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
        return to_json(record)


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
