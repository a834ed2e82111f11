"""What `deadletter replay` publishes for a letter: pure, no broker."""

from __future__ import annotations

import pytest

from ingest.replay import replay_of
from schemas.dead_letter import DeadLetter
from schemas.raw import RawBatch
from schemas.settings import TopicSettings

TOPICS = TopicSettings(prefix="customs")


def test_a_parse_letter_goes_back_to_its_raw_topic_with_how_to_read_it() -> None:
    letter = DeadLetter(
        source="csv",
        origin="/in/ru.csv",
        position=11,
        stage="parse",
        reason="Дата ДТ: '2024/03/12' matches none of the date formats",
        payload="1;2024/03/12;8806".encode("cp1251"),
        topic="customs.raw.csv",
        partition=1,
        offset=7,
        context={
            "format": "csv",
            "mapping": "ru_import_declarations",
            "encoding": "cp1251",
            "header": ["Номер ДТ", "Дата ДТ", "Код ТН ВЭД"],
            "sequence": 2,
        },
    )
    replay = replay_of(letter, TOPICS)
    assert replay.topic == "customs.raw.csv" and replay.key == b"/in/ru.csv"
    batch = RawBatch.model_validate_json(replay.value)
    assert (batch.format, batch.mapping, batch.encoding) == (
        "csv",
        "ru_import_declarations",
        "cp1251",
    )
    assert batch.header == ["Номер ДТ", "Дата ДТ", "Код ТН ВЭД"]
    (record,) = batch.records
    assert (record.position, record.sequence, record.payload) == (11, 2, letter.payload)


def test_a_jsonl_letter_needs_no_context() -> None:
    letter = DeadLetter(source="jsonl", origin="f.jsonl", position=3, stage="parse",
                        reason="invalid JSON", payload=b"{oops")  # fmt: skip
    batch = RawBatch.model_validate_json(replay_of(letter, TOPICS).value)
    assert batch.format == "jsonl" and batch.records[0].payload == b"{oops"


def test_a_later_stage_letter_goes_back_unchanged_to_its_topic() -> None:
    letter = DeadLetter(source="customs.enriched", stage="sink", reason="refused",
                        payload=b'{"lines": []}', topic="customs.enriched")  # fmt: skip
    replay = replay_of(letter, TOPICS)
    assert (replay.topic, replay.value) == ("customs.enriched", b'{"lines": []}')


def test_a_later_stage_letter_without_its_topic_is_refused() -> None:
    letter = DeadLetter(source="x", stage="enrich", reason="bad", payload=b"x")
    with pytest.raises(ValueError, match="cannot be replayed"):
        replay_of(letter, TOPICS)
