"""What `deadletter replay` publishes for a letter, which letters it chooses and what it
remembers: no broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.replay import LetterChoice, ReplayMemory, replay_of
from ingest.synthetic import synthetic_lines
from schemas.codecs import ENRICHED_BATCH
from schemas.dead_letter import DeadLetter
from schemas.declaration import Declaration, RawRef
from schemas.enriched import EnrichedBatch
from schemas.raw import REPLAY_HEADER, RawBatch
from schemas.rule_data import load_rules
from schemas.settings import Settings, TopicSettings
from stream.stages.enrich import Enricher

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


def test_a_later_stage_letter_goes_back_unchanged_to_its_topic_named_as_a_replay() -> None:
    letter = DeadLetter(source="customs.enriched", stage="sink", reason="refused",
                        payload=b'{"lines": []}', topic="customs.enriched")  # fmt: skip
    replay = replay_of(letter, TOPICS)
    assert (replay.topic, replay.value) == ("customs.enriched", b'{"lines": []}')
    # the sink remembers the refused message; the header makes the replay a new arrival
    assert replay.headers == ((REPLAY_HEADER, letter.identity().encode()),)


def test_a_sink_letter_naming_refused_lines_sends_back_those_lines_only() -> None:
    lines = [Declaration.model_validate(x) for x in synthetic_lines(3, seed=4)]
    ref = RawRef(topic="customs.raw.jsonl", partition=0, offset=9)
    batch = EnrichedBatch(
        source="jsonl", raw=ref, lines=Enricher(load_rules()).lines(lines, ref).lines
    )
    letter = DeadLetter(source="customs.enriched", stage="sink", reason="refused line(s) [1]",
                        payload=ENRICHED_BATCH.encode(batch), topic="customs.enriched",
                        context={"lines": [1]})  # fmt: skip
    sent = ENRICHED_BATCH.decode(replay_of(letter, TOPICS).value)
    assert [line.key for line in sent.lines] == [lines[1].key]
    assert sent.raw == ref


def test_a_later_stage_letter_without_its_topic_is_refused() -> None:
    letter = DeadLetter(source="x", stage="enrich", reason="bad", payload=b"x")
    with pytest.raises(ValueError, match="cannot be replayed"):
        replay_of(letter, TOPICS)


class Sent:
    """A kafka-python producer's future, already acknowledged."""

    def get(self, timeout: float) -> None:
        return None


class Producer:
    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.fail_after = fail_after

    def send(self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Sent:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise TimeoutError("broker gone")
        self.sent.append((topic, key, value))
        return Sent()


def letter(n: int, stage: str = "parse", source: str = "jsonl", reason: str = "bad") -> DeadLetter:
    return DeadLetter(source=source, origin="f.jsonl", position=n, stage=stage, reason=reason,
                      payload=b"{oops", topic="customs.enriched")  # fmt: skip


def test_the_choice_filters_by_stage_source_and_part_of_the_reason() -> None:
    parse, sink = letter(1), letter(2, stage="sink", source="customs.enriched", reason="refused")
    assert LetterChoice().wants(parse, set()) and LetterChoice().wants(sink, set())
    assert not LetterChoice(stage="sink").wants(parse, set())
    assert not LetterChoice(source="csv").wants(parse, set())
    assert LetterChoice(reason="fuse").wants(sink, set())
    assert not LetterChoice(reason="fuse").wants(parse, set())


def test_a_letter_replayed_before_is_chosen_again_only_when_asked(tmp_path: Path) -> None:
    memory = ReplayMemory(tmp_path / "state" / "customs.deadletter.replayed")
    assert memory.replayed() == set()
    producer = Producer()
    memory.replay(producer, [letter(1), letter(2, stage="sink")], TOPICS)
    assert [topic for topic, _, _ in producer.sent] == ["customs.raw.jsonl", "customs.enriched"]
    replayed = memory.replayed()
    assert replayed == {letter(1).identity(), letter(2, stage="sink").identity()}
    assert not LetterChoice().wants(letter(1), replayed)
    assert LetterChoice(again=True).wants(letter(1), replayed)
    assert LetterChoice().wants(letter(3), replayed)


def test_a_replay_stopped_midway_remembers_only_what_the_broker_acknowledged(
    tmp_path: Path,
) -> None:
    memory = ReplayMemory(tmp_path / "replayed")
    with pytest.raises(TimeoutError):
        memory.replay(Producer(fail_after=1), [letter(1), letter(2)], TOPICS)
    assert memory.replayed() == {letter(1).identity()}


def test_the_memory_sits_in_the_ingest_state_folder(tmp_path: Path) -> None:
    settings = Settings(topics={"prefix": "customs"}, ingest={"state_dir": tmp_path})
    assert ReplayMemory.of(settings).path == tmp_path / "customs.deadletter.replayed"
