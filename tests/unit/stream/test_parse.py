import orjson

from schemas.declaration import RawRef
from schemas.raw import RawBatch, RawRecord
from stream.stages.parse import parse_batch, parse_message
from tests.records import GOOD_LINE, raw_record

REF = RawRef(topic="customs.raw.jsonl", partition=1, offset=42)
GOOD = GOOD_LINE


def record(payload: bytes, position: int) -> RawRecord:
    return raw_record(payload, position)


def test_good_and_bad_records_are_split_and_nothing_is_lost() -> None:
    bad_json = b'{"declaration_id": "D2"'
    not_object = b"[1, 2]"
    bad_date = orjson.dumps({**GOOD, "declared_at": "yesterday"})
    cp1251 = "Жилет".encode("cp1251")
    batch = RawBatch(
        source="jsonl",
        origin="feed.jsonl",
        records=[
            record(orjson.dumps(GOOD), 1),
            record(bad_json, 2),
            record(not_object, 3),
            record(bad_date, 4),
            record(cp1251, 5),
        ],
    )
    result = parse_batch(batch, REF)
    assert [line.declaration_id for line in result.lines] == ["D1"]
    letters = {dl.position: dl for dl in result.dead_letters}
    assert set(letters) == {2, 3, 4, 5}
    assert letters[2].reason.startswith("invalid JSON")
    assert letters[3].reason == "expected a JSON object, got list"
    assert "declared_at" in letters[4].reason
    assert letters[5].payload == cp1251
    for letter in letters.values():
        assert (letter.topic, letter.partition, letter.offset) == (REF.topic, 1, 42)
        assert letter.stage == "parse"


def test_source_and_record_id_default_from_the_raw_record() -> None:
    result = parse_batch(
        RawBatch(source="jsonl", origin="f", records=[record(orjson.dumps(GOOD), 7)]), REF
    )
    (line,) = result.lines
    assert line.source == "jsonl"
    assert line.source_record_id == "feed.jsonl:7"


def test_a_message_that_is_not_a_raw_batch_is_dead_lettered_whole() -> None:
    value = b"\x00\x01 not json at all"
    result = parse_message(value, REF, source="jsonl")
    assert result.lines == []
    (letter,) = result.dead_letters
    assert letter.payload == value
    assert letter.reason.startswith("not a raw batch")


def test_dead_letter_payload_round_trips_through_json() -> None:
    from schemas.dead_letter import DeadLetter

    result = parse_message(b"\xff\xfe", REF, source="jsonl")
    letter = result.dead_letters[0]
    assert DeadLetter.model_validate_json(letter.model_dump_json()).payload == b"\xff\xfe"
