"""Which topic lands in which ClickHouse table, and how one message becomes rows. Pure.

A decoder returns the message's upstream *identity* (what a redelivered copy shares with
the original) and its rows. A message that is not what the topic promises raises
``ValueError``; the sink dead-letters it and goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.codecs import ALERT, DEAD_LETTER, ENRICHED_BATCH
from schemas.settings import TopicSettings
from stream.warehouse.rows import (
    ALERT_COLUMNS,
    DEAD_LETTER_COLUMNS,
    DECLARATION_COLUMNS,
    alert_row,
    dead_letter_row,
    declaration_row,
)

Decoded = tuple[str | None, list[list[Any]]]


@dataclass(frozen=True, slots=True)
class SinkTable:
    table: str
    columns: Sequence[str]
    decode: Callable[[bytes], Decoded]
    # False: a batch ClickHouse refuses is logged and skipped rather than dead-lettered
    # (the records stay on their topic); used for the dead letters themselves.
    dead_letter_rejects: bool = True


def decode_enriched(value: bytes) -> Decoded:
    """An enriched batch: one row per line; identity = the raw message it came from."""
    batch = ENRICHED_BATCH.decode(value)
    return batch.raw.token(), [declaration_row(line) for line in batch.lines]


def decode_alert_version(value: bytes) -> Decoded:
    """An alert version. Versions share their alert id; the ReplacingMergeTree keeps the
    latest, so copies need no identity."""
    return None, [alert_row(ALERT.decode(value))]


def decode_dead_letter(value: bytes) -> Decoded:
    letter = DEAD_LETTER.decode(value)
    return letter.identity(), [dead_letter_row(letter)]


def sink_tables(topics: TopicSettings) -> dict[str, SinkTable]:
    """Topic name → table, for every topic the sink consumes."""
    return {
        topics.enriched: SinkTable("declarations", DECLARATION_COLUMNS, decode_enriched),
        topics.alert_versions: SinkTable("alerts", ALERT_COLUMNS, decode_alert_version),
        topics.deadletter: SinkTable(
            "dead_letters", DEAD_LETTER_COLUMNS, decode_dead_letter, dead_letter_rejects=False
        ),
    }
