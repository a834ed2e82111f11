"""Models built from values a stage already holds valid, without validating them again.

The worker's hot path builds tens of thousands of models per second from values that were
validated on the way in (a :class:`~schemas.declaration.Declaration`) or computed by our own
stages. pydantic's ``model_construct`` would skip the validation too, but it looks up
aliases and defaults field by field in Python; :func:`trusted` takes every field at once.
The topic JSON Schemas stay the contract: what these models serialise is checked against
them in the tests, and every reader of a topic validates what it decodes.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)

_set = object.__setattr__
_SHAPES: dict[type[BaseModel], tuple[tuple[str, ...], set[str]] | None] = {}
"""Per model class: its field names in order and the set of them (shared by every instance
built here: all fields are set, and pydantic only ever adds field names to it, or copies
it), or None for a class that needs model_construct's own bookkeeping."""


def _shape(cls: type[BaseModel]) -> tuple[tuple[str, ...], set[str]] | None:
    if cls.__pydantic_post_init__ or cls.model_config.get("extra") == "allow":
        return None
    names = tuple(cls.__pydantic_fields__)
    return names, set(names)


def trusted(cls: type[Model], values: dict[str, Any]) -> Model:
    """An instance of ``cls`` holding ``values``, which must name every field of ``cls``
    (a ``KeyError`` otherwise) and be valid for it; names that are not fields are left out,
    as ``model_construct`` leaves them. Same instance as ``model_construct`` would give:
    fields in declaration order, every field counted as set.

    ``values`` holding exactly the fields, in order, becomes the instance's ``__dict__``
    (no copy): the caller hands it over and must not change it afterwards."""
    if cls not in _SHAPES:
        _SHAPES[cls] = _shape(cls)
    shape = _SHAPES[cls]
    if shape is None:
        return cls.model_construct(**values)
    names, every = shape
    if tuple(values) != names:
        values = {name: values[name] for name in names}
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", every)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
