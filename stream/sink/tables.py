"""Which topic lands in which ClickHouse table, and how one message becomes rows. Pure.

A decoder returns the message's upstream *identity* (what a redelivered copy shares with
the original) and its rows. A message that is not what the topic promises raises
``ValueError``; the sink dead-letters it and goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import orjson

from schemas.codecs import (
    ALERT_ACTION,
    ALERT_BATCH,
    DEAD_LETTER,
    ENRICHED_BATCH,
    PARTY_MERGE,
)
from schemas.enriched import enriched_identity
from schemas.settings import TopicSettings
from stream.sink.batcher import Row
from stream.warehouse.rows import (
    ACTION_COLUMNS,
    ALERT_COLUMNS,
    DEAD_LETTER_COLUMNS,
    DECLARATION_COLUMNS,
    DECLARATION_JSON,
    PARTY_MERGE_COLUMNS,
    JsonColumns,
    action_row,
    alert_row,
    dead_letter_row,
    declaration_row,
    party_merge_row,
)

Decoded = tuple[str | None, Sequence[Row]]


@dataclass(frozen=True, slots=True)
class SinkTable:
    table: str
    columns: Sequence[str]
    decode: Callable[[bytes], Decoded]
    # False: rows ClickHouse refuses as wrong are logged rather than dead-lettered (they stay
    # on their topic, which replay reads); used for the dead letters themselves.
    dead_letter_rejects: bool = True
    # For messages carrying the worker's mark (schemas.enriched.WRITER_HEADER): a reading
    # that skips validation; whatever it raises sends the message through ``decode``.
    decode_marked: Callable[[bytes], Decoded] | None = None
    # Rows given as JSON objects (dicts, what ``decode_marked`` returns) go to ClickHouse as
    # JSON, built into columns there; a batch mixing them with other rows goes as rows.
    json: JsonColumns | None = None
    # For marked messages that also carry schemas.enriched.BATCH_HEADER (its value is the
    # second argument): identity and line count from the header, the lines left unread
    # (:class:`JsonLines`); whatever it raises sends the message through ``decode_marked``.
    decode_passthrough: Callable[[bytes, bytes], Decoded] | None = None

    def rows_in_python(self, rows: Sequence[Row]) -> list[Sequence[Any]]:
        """``rows`` as column values, the JSON objects among them built in Python."""
        if self.json is None:
            return list(rows)  # type: ignore[arg-type]  # only JSON tables decode to dicts
        to_row = self.json.row
        return [to_row(row) if type(row) is dict else row for row in rows]  # type: ignore[misc]


def decode_enriched(value: bytes) -> Decoded:
    """An enriched batch: one row per line; identity = :func:`enriched_identity`."""
    batch = ENRICHED_BATCH.decode(value)
    return enriched_identity(batch), [declaration_row(line) for line in batch.lines]


class JsonLines(Sequence[dict[str, Any]]):
    """A message's lines as the JSON array its writer made, handed to ClickHouse as they are
    (:func:`decode_enriched_passthrough`). The sink never reads them here: a batch that goes
    as rows, or that ClickHouse refused, reads its messages in full instead (validated, see
    ``Sink._read_in_full``). Asking for a line parses the array and checks its length."""

    __slots__ = ("_lines", "array", "size")

    def __init__(self, array: bytes, count: int) -> None:
        self.array = array
        """``[{...},{...}]``: the bytes of the lines, brackets included."""
        self.size = count
        self._lines: list[dict[str, Any]] | None = None

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self.read()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.read())

    def read(self) -> list[dict[str, Any]]:
        if self._lines is None:
            lines = orjson.loads(self.array)
            if not isinstance(lines, list) or len(lines) != self.size:
                raise ValueError(f"the batch header says {self.size} lines; they are not")
            self._lines = lines
        return self._lines


LINES_KEY = b',"lines":['
"""Where an enriched batch's lines start: its last key, after ``source`` and ``raw`` (whose
strings cannot hold it: a quote inside a JSON string is escaped)."""


def decode_enriched_passthrough(value: bytes, header: bytes) -> Decoded:
    """An enriched batch the worker wrote with its :data:`~schemas.enriched.BATCH_HEADER`:
    the identity and line count the header gives, and the lines as the JSON bytes they are.
    Only the batch's outline is checked; the worker's lines are whole by construction (the
    writer mark says the sink and the worker share the schema)."""
    identity, _, count = header.decode("ascii").partition(" ")
    lines = int(count)
    start = value.find(LINES_KEY)
    if (
        len(identity) != 32
        or lines < 1
        or not value.startswith(b'{"source":')
        or start < 0
        or not value.endswith(b"]}")
    ):
        raise ValueError("not an enriched batch as the worker writes it")
    return identity, JsonLines(value[start + len(LINES_KEY) - 1 : -1], lines)


def decode_enriched_marked(value: bytes) -> Decoded:
    """An enriched batch the worker wrote: the same identity as :func:`decode_enriched`,
    its lines left as the JSON objects they are (ClickHouse builds the rows from them, see
    ``DECLARATION_JSON``; a line missing a field raises ``KeyError``)."""
    batch = orjson.loads(value)
    raw, source, lines = batch["raw"], batch["source"], batch["lines"]
    digest = hashlib.sha256(
        f"{raw['topic']}-{raw['partition']}-{raw['offset']}\x1e{source}".encode()
    )
    fields = DECLARATION_JSON.fields
    checked: set[tuple[str, ...]] = set()  # key sequences already known to hold every field
    for line in lines:
        # the worker's lines all share one key sequence: each distinct one is checked once
        # (a tuple of the keys hashes and compares cheaper than the subset test per line)
        shape = tuple(line)
        if shape not in checked:
            if not line.keys() >= fields:
                raise KeyError(sorted(fields - line.keys()))
            checked.add(shape)
        key = (
            f"\x1e{line['declaration_id']}\x1f{line['line_no']}\x1f{line['source_record_id'] or ''}"
        )
        digest.update(key.encode())
    if not lines:
        raise ValueError("an enriched batch holds at least one line")
    return digest.hexdigest()[:32], lines


def replayed_identity(identity: str | None, letter_id: str) -> str | None:
    """A message republished by ``deadletter replay`` (see schemas.raw.REPLAY_HEADER) is a
    new arrival, not a copy of the refused one the sink remembers: its identity names the
    letter, so each letter's replay lands once."""
    if identity is None:
        return None
    return hashlib.sha256(f"{identity}\x1ereplay\x1f{letter_id}".encode()).hexdigest()[:32]


def decode_alert_version(value: bytes) -> Decoded:
    """A batch of alert versions. Versions share their alert id; the ReplacingMergeTree keeps
    the latest, so copies need no identity."""
    return None, [alert_row(alert) for alert in ALERT_BATCH.decode(value).alerts]


def decode_alert_action(value: bytes) -> Decoded:
    """A triage event from the ops console; its event id is its identity."""
    action = ALERT_ACTION.decode(value)
    return action.event_id, [action_row(action)]


def decode_party_merge(value: bytes) -> Decoded:
    """A merge or split of parties; its event id is its identity."""
    merge = PARTY_MERGE.decode(value)
    return merge.event_id, [party_merge_row(merge)]


def decode_dead_letter(value: bytes) -> Decoded:
    letter = DEAD_LETTER.decode(value)
    return letter.identity(), [dead_letter_row(letter)]


def sink_tables(topics: TopicSettings) -> dict[str, SinkTable]:
    """Topic name → table, for every topic the sink consumes."""
    return {
        topics.enriched: SinkTable(
            "declarations",
            DECLARATION_COLUMNS,
            decode_enriched,
            decode_marked=decode_enriched_marked,
            json=DECLARATION_JSON,
            decode_passthrough=decode_enriched_passthrough,
        ),
        topics.alert_versions: SinkTable("alerts", ALERT_COLUMNS, decode_alert_version),
        topics.alert_actions: SinkTable("alert_actions", ACTION_COLUMNS, decode_alert_action),
        topics.party_merges: SinkTable("party_merges", PARTY_MERGE_COLUMNS, decode_party_merge),
        topics.deadletter: SinkTable(
            "dead_letters", DEAD_LETTER_COLUMNS, decode_dead_letter, dead_letter_rejects=False
        ),
    }
