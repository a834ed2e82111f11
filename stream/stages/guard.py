"""The one guard around every record-level step, and the dead letters it leads to.

A record-level step (read one record, enrich one line, one party's or flow's transition)
may raise anything a library raises (``TypeError``, ``_csv.Error``, pydifact's
``EDISyntaxError``, ``decimal.InvalidOperation``, a broken mapping file…). :func:`attempt`
turns any such exception into a :class:`Failed` with the exception's type and message, so the
caller dead-letters exactly that record and goes on with the rest of its batch. Stages do no
I/O, so nothing caught here is an infrastructure failure: the agents' sends stay outside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from schemas.dead_letter import DeadLetter
from schemas.declaration import Declaration, RawRef

T = TypeVar("T")

REASON_MAX_CHARS = 2000
"""A reason longer than this is cut: some exceptions quote the whole record."""


@dataclass(frozen=True, slots=True)
class Failed:
    """A step that raised, with the reason a dead letter will carry."""

    reason: str


def exception_name(exc: BaseException) -> str:
    """``TypeError``, ``_csv.Error``, ``decimal.InvalidOperation``: the module tells a
    library's ``Error`` from another's."""
    kind = type(exc)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def describe(exc: BaseException) -> str:
    """``'<exception type>: <message>'``; a plain ``ValueError`` (our stages' own refusals,
    with a reason written for the reader) keeps its message alone."""
    message = str(exc)
    if type(exc) is ValueError and message:
        reason = message
    else:
        reason = f"{exception_name(exc)}: {message}" if message else exception_name(exc)
    return reason if len(reason) <= REASON_MAX_CHARS else reason[: REASON_MAX_CHARS - 1] + "…"


def attempt(step: Callable[[], T]) -> T | Failed:
    """Run one record-level step; any exception becomes a :class:`Failed`."""
    try:
        return step()
    except Exception as exc:  # any library's error is this record's, not the batch's
        return Failed(describe(exc))


def message_letter(value: bytes, ref: RawRef, stage: str, reason: str, source: str) -> DeadLetter:
    """A whole consumed message that a stage gave up on, kept byte for byte; replayed to the
    topic it was read from."""
    return DeadLetter(
        source=source,
        stage=stage,
        reason=reason,
        payload=value,
        topic=ref.topic,
        partition=ref.partition,
        offset=ref.offset,
    )


def line_letter(line: Declaration, ref: RawRef, stage: str, reason: str) -> DeadLetter:
    """One declaration line a later stage gave up on: the line's JSON (readable again as a
    ``jsonl`` record) and the raw message it was parsed from."""
    return DeadLetter(
        source=line.source or "",
        stage=stage,
        reason=reason,
        payload=line.model_dump_json().encode(),
        topic=ref.topic,
        partition=ref.partition,
        offset=ref.offset,
        context={"format": "jsonl", "declaration_id": line.declaration_id, "line_no": line.line_no},
    )
