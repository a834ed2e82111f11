"""What replaying a dead letter publishes: its original bytes, back where they can be read.

* ``parse`` letters (a record that could not be read or mapped) become a one-record raw
  batch on ``<prefix>.raw.<source>``, with the format, mapping, encoding and header the
  letter kept, so the stream reads them again with the mapping as it is now;
* letters of later stages (a whole message, e.g. one the sink could not insert) go back to
  the topic they were read from, with the letter's id in the ``REPLAY_HEADER`` header, so
  the sink takes them as new rather than as a copy of the message it refused (and
  remembers). A sink letter naming refused lines (``context.lines``) of an enriched batch
  sends back those lines only: the other lines of the message are in ClickHouse already.

Each letter is replayed once: the ids of the letters replayed are remembered in the ingest
state folder (:class:`ReplayMemory`), and a letter remembered there is chosen again only
when asked (:class:`LetterChoice`). ``customs-watch deadletter list`` and ``replay`` read
the topic with :func:`read_dead_letters`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.broker.reader import read_to_end
from ingest.publisher import make_producer
from schemas.codecs import DEAD_LETTER, ENRICHED_BATCH
from schemas.dead_letter import DeadLetter
from schemas.raw import REPLAY_HEADER, RawBatch, RawRecord, payload_checksum
from schemas.settings import Settings, TopicSettings


@dataclass(frozen=True, slots=True)
class Replay:
    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def replay_of(letter: DeadLetter, topics: TopicSettings) -> Replay:
    """The message that puts ``letter``'s bytes back into the pipeline."""
    if letter.stage != "parse":
        if not letter.topic:
            raise ValueError(f"a {letter.stage} letter without its topic cannot be replayed")
        headers = ((REPLAY_HEADER, letter.identity().encode("ascii")),)
        value = letter.payload
        lines = letter.context.get("lines")
        if letter.topic == topics.enriched and lines:
            value = _only_lines(value, lines)
        return Replay(letter.topic, letter.source.encode(), value, headers)
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


def _only_lines(value: bytes, lines: Sequence[int]) -> bytes:
    """The enriched batch ``value`` with only the lines at the indexes ``lines``."""
    batch = ENRICHED_BATCH.decode(value)
    kept = [batch.lines[i] for i in sorted(set(lines)) if 0 <= i < len(batch.lines)]
    if not kept:
        raise ValueError(f"the letter names lines {list(lines)} its message does not have")
    return ENRICHED_BATCH.encode(batch.model_copy(update={"lines": kept}))


def read_dead_letters(settings: Settings) -> Iterator[DeadLetter]:
    """Every dead letter now on the topic, in partition order; raises
    :class:`schemas.codecs.Undecodable` on a message that is not one."""
    for record in read_to_end(settings, settings.topics.deadletter):
        yield DEAD_LETTER.decode(record.value)


@dataclass(frozen=True, slots=True)
class LetterChoice:
    """Which letters to replay: all that match every filter given, and only those not
    replayed before unless ``again``."""

    stage: str | None = None
    source: str | None = None
    reason: str | None = None  # a part of the reason
    again: bool = False

    def wants(self, letter: DeadLetter, replayed: set[str]) -> bool:
        if (self.stage and letter.stage != self.stage) or (
            self.source and letter.source != self.source
        ):
            return False
        if self.reason and self.reason not in letter.reason:
            return False
        return self.again or letter.identity() not in replayed


class ReplayMemory:
    """The letters replayed so far: one letter id per line, appended once the broker
    acknowledged the letter's replay."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, settings: Settings) -> ReplayMemory:
        return cls(settings.ingest.state_dir / f"{settings.topics.deadletter}.replayed")

    def replayed(self) -> set[str]:
        return set(self.path.read_text().split()) if self.path.exists() else set()

    def replay(
        self,
        producer: Any,
        letters: Iterable[DeadLetter],
        topics: TopicSettings,
        timeout_s: float = 60.0,
    ) -> None:
        """Publish each letter's :func:`replay_of` with a kafka-python ``producer``, one at a
        time, and remember it once acknowledged: a failure midway replays the rest next time."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="ascii") as log_file:
            for letter in letters:
                message = replay_of(letter, topics)
                producer.send(
                    message.topic,
                    key=message.key,
                    value=message.value,
                    headers=list(message.headers),
                ).get(timeout=timeout_s)
                log_file.write(letter.identity() + "\n")
                log_file.flush()


def letters_to_replay(settings: Settings, choice: LetterChoice) -> list[DeadLetter]:
    """The letters on the topic that ``choice`` wants."""
    replayed = ReplayMemory.of(settings).replayed()
    return [letter for letter in read_dead_letters(settings) if choice.wants(letter, replayed)]


def replay_letters(settings: Settings, letters: Sequence[DeadLetter]) -> None:
    """Publish ``letters`` again (see :meth:`ReplayMemory.replay`) with a producer of its own."""
    producer = make_producer(settings.kafka, settings.topics.max_message_bytes)
    try:
        ReplayMemory.of(settings).replay(producer, letters, settings.topics)
    finally:
        producer.close(timeout=10)
