"""The connector contract: what a connector hands to the publisher (:class:`OriginFeed`),
and the batching every connector shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from schemas.raw import RawBatch, RawRecord


class Connector(Protocol):
    """Reads one feed and yields its records as received; never touches Kafka itself."""

    name: ClassVar[str]

    def records(self) -> Iterator[RawRecord]: ...


def origin_key(origin: str, checksum: str | None) -> str:
    """An origin's name in the state file: a file's content counts, not only its path."""
    return f"{origin}#{checksum}" if checksum else origin


def chunk_of(position: int, chunk_records: int) -> int:
    """The chunk a record position (1, 2, …) belongs to; chunk 0 holds the first
    ``chunk_records`` positions."""
    return max(position - 1, 0) // chunk_records


def chunk_name(name: str, chunk: int) -> str:
    """The state-file entry and message key of one chunk of an origin: chunk 0 keeps the
    origin's own name, so a file smaller than a chunk publishes and resumes as before."""
    return name if chunk == 0 else f"{name}#chunk{chunk}"


@dataclass(slots=True)
class OriginFeed:
    """An origin's records in order, and what every batch of it carries."""

    origin: str
    checksum: str | None
    records: Iterable[RawRecord]
    context: dict[str, Any] = field(default_factory=dict)
    # Polled endpoints: the cursor after a record, set on each batch (its last record's).
    cursor_of: Callable[[RawRecord], str | None] | None = None

    @property
    def key(self) -> str:
        return origin_key(self.origin, self.checksum)


def batches(
    records: Iterable[RawRecord],
    max_records: int,
    max_bytes: int,
    context: dict[str, Any] | None = None,
) -> Iterator[RawBatch]:
    """Cut consecutive records of one origin into bounded batches.

    A batch closes when it holds ``max_records`` records, when its payload bytes would pass
    ``max_bytes``, or when the origin changes. A single record larger than ``max_bytes``
    travels alone. ``context`` (format, mapping, encoding, header, origin checksum) is set
    on every batch.
    """
    extra = context or {}
    current: list[RawRecord] = []
    size = 0
    for record in records:
        starts_new = current and (
            len(current) >= max_records
            or size + len(record.payload) > max_bytes
            or record.origin != current[0].origin
        )
        if starts_new:
            yield RawBatch(
                source=current[0].source, origin=current[0].origin, records=current, **extra
            )
            current, size = [], 0
        current.append(record)
        size += len(record.payload)
    if current:
        yield RawBatch(source=current[0].source, origin=current[0].origin, records=current, **extra)
