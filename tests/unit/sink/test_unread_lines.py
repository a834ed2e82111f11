"""The worker's enriched batches handed to ClickHouse unread (``decode_enriched_passthrough``):
the header's identity and count, the lines' bytes cut where the batch says, and what happens
when a header or a message is not what it claims."""

from __future__ import annotations

import orjson
import pytest

from schemas.codecs import ENRICHED_BATCH
from schemas.enriched import batch_header
from schemas.settings import TopicSettings
from stream.sink.batcher import Batch, SinkRecord
from stream.sink.plans import Plan
from stream.sink.service import _json_body, _read_in_full
from stream.sink.tables import JsonLines, decode_enriched, decode_enriched_passthrough, sink_tables
from tests.unit.stream.test_sink_rows import enriched_batches

TABLE = sink_tables(TopicSettings())[TopicSettings().enriched]


def _awkward(value: bytes) -> bytes:
    """The batch with a source holding the lines key as text and a line whose ``extra`` has
    a key named ``lines`` holding an array: neither may be taken for where the lines start."""
    batch = ENRICHED_BATCH.decode(value)
    first = batch.lines[0].model_copy(update={"extra": {"lines": [1, {"lines": []}]}})
    batch = batch.model_copy(update={"source": 'x,"lines":[', "lines": [first, *batch.lines[1:]]})
    return ENRICHED_BATCH.encode(batch)


@pytest.mark.parametrize("awkward", [False, True])
def test_the_lines_handed_on_are_the_batchs_lines(awkward: bool) -> None:
    for value in enriched_batches():
        value = _awkward(value) if awkward else value
        outline = batch_header(ENRICHED_BATCH.decode(value))
        identity, lines = decode_enriched_passthrough(value, outline)
        assert identity == decode_enriched(value)[0]
        assert type(lines) is JsonLines
        assert orjson.loads(lines.array) == orjson.loads(value)["lines"]
        assert len(lines) == len(orjson.loads(value)["lines"])


@pytest.mark.parametrize(
    "outline",
    [b"", b"abc 3", b"0123456789abcdef0123456789abcdef", b"0123456789abcdef0123456789abcdef 0",
     b"0123456789abcdef0123456789abcdef x", "0123456789abcdef0123456789abcdeé 3".encode()],
)  # fmt: skip
def test_a_header_that_is_not_one_is_refused(outline: bytes) -> None:
    value = enriched_batches()[0]
    with pytest.raises(ValueError):
        decode_enriched_passthrough(value, outline)


@pytest.mark.parametrize("value", [b'{"source":"a"}', b"[]", b'{"raw":1,"lines":[{}]}', b""])
def test_a_message_not_shaped_as_the_worker_writes_is_refused(value: bytes) -> None:
    with pytest.raises(ValueError):
        decode_enriched_passthrough(value, b"0123456789abcdef0123456789abcdef 1")


def test_a_count_the_lines_do_not_match_is_found_when_they_are_read() -> None:
    value = enriched_batches()[0]
    identity, count = batch_header(ENRICHED_BATCH.decode(value)).decode().split()
    _, lines = decode_enriched_passthrough(value, f"{identity} {int(count) + 1}".encode())
    assert len(lines) == int(count) + 1  # unread: the header's word
    with pytest.raises(ValueError, match="lines"):
        lines.read()


def _record(offset: int, value: bytes, outline: bytes | None = None) -> SinkRecord:
    header = outline if outline is not None else batch_header(ENRICHED_BATCH.decode(value))
    identity, rows = decode_enriched_passthrough(value, header)
    return SinkRecord(offset, identity, rows, value)


def _batch(records: list[SinkRecord]) -> Batch:
    plan = Plan("t", 0, records[0].offset, records[-1].offset, (), 0, 0)
    return Batch(plan=plan, records=records, failures=[])


def test_a_batch_of_unread_and_read_lines_goes_as_one_json_array() -> None:
    values = enriched_batches()[:3]
    read = orjson.loads(values[1])["lines"]
    records = [
        _record(0, values[0]),
        SinkRecord(1, "id", read, values[1]),
        _record(2, values[2]),
    ]
    body = _json_body(records)
    assert body is not None
    assert orjson.loads(body) == [line for value in values for line in orjson.loads(value)["lines"]]
    alone = _json_body(records[:1])
    assert alone is not None and orjson.loads(alone) == orjson.loads(values[0])["lines"]


def test_rows_that_are_not_json_objects_send_the_batch_as_rows() -> None:
    value = enriched_batches()[0]
    records = [_record(0, value), SinkRecord(1, "id", decode_enriched(value)[1], value)]
    assert _json_body(records) is None


def test_a_refused_batch_reads_its_unread_messages_in_full() -> None:
    """The rows searched are the validated ones; a message whose header lied about it
    (here: a batch that is no enriched batch at all) becomes a failure with the reason."""
    good, other = enriched_batches()[:2]
    outline = batch_header(ENRICHED_BATCH.decode(good))
    lying = other.replace(b'"lines":[', b'"lines":[{"declaration_id":1},', 1)
    batch = _batch([_record(0, good), _record(1, lying, outline=outline)])
    _read_in_full(TABLE, batch)
    assert [r.offset for r in batch.records] == [0]
    assert list(batch.records[0].rows) == decode_enriched(good)[1]
    assert [r.offset for r in batch.failures] == [1]
    assert batch.failures[0].rows == () and batch.failures[0].error
    assert batch.row_count == len(decode_enriched(good)[1])
