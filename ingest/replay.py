"""What replaying a dead letter publishes: its original bytes, back where they can be read.

* ``parse`` letters (a record that could not be read or mapped) become a one-record raw
  batch on ``<prefix>.raw.<source>``, with the format, mapping, encoding and header the
  letter kept, so the stream reads them again with the mapping as it is now;
* letters of later stages (a whole message, e.g. one the sink could not insert) go back to
  the topic they were read from, unchanged.

Pure: the CLI does the reading, publishing and remembering (``deadletter replay``).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.dead_letter import DeadLetter
from schemas.raw import RawBatch, RawRecord, payload_checksum
from schemas.settings import TopicSettings


@dataclass(frozen=True, slots=True)
class Replay:
    topic: str
    key: bytes
    value: bytes


def replay_of(letter: DeadLetter, topics: TopicSettings) -> Replay:
    """The message that puts ``letter``'s bytes back into the pipeline."""
    if letter.stage != "parse":
        if not letter.topic:
            raise ValueError(f"a {letter.stage} letter without its topic cannot be replayed")
        return Replay(letter.topic, letter.source.encode(), letter.payload)
    context = letter.context
    origin = letter.origin or f"deadletter:{letter.topic}/{letter.partition}/{letter.offset}"
    record = RawRecord(
        source=letter.source,
        origin=origin,
        position=letter.position or 0,
        payload=letter.payload,
        checksum=payload_checksum(letter.payload),
        sequence=context.get("sequence"),
    )
    batch = RawBatch(
        source=letter.source,
        origin=origin,
        records=[record],
        format=context.get("format", "jsonl"),
        mapping=context.get("mapping"),
        encoding=context.get("encoding"),
        header=context.get("header"),
        edifact_service=context.get("edifact_service"),
    )
    return Replay(topics.raw(letter.source), origin.encode(), batch.model_dump_json().encode())
