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


def trusted(cls: type[Model], values: dict[str, Any]) -> Model:
    """An instance of ``cls`` holding ``values``, which must name every field of ``cls``
    (a ``KeyError`` otherwise) and be valid for it; names that are not fields are left out,
    as ``model_construct`` leaves them. Same instance as ``model_construct`` would give:
    fields in declaration order, every field counted as set."""
    if cls.__pydantic_post_init__ or cls.model_config.get("extra") == "allow":
        return cls.model_construct(**values)  # their own bookkeeping; not on the hot path
    fields = cls.__pydantic_fields__
    model = cls.__new__(cls)
    _set(model, "__dict__", {name: values[name] for name in fields})
    _set(model, "__pydantic_fields_set__", set(fields))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
