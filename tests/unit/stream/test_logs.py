import json
import logging

from stream.logs import JsonFormatter, KeyValueFormatter


def make_record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "t", "levelname": "WARNING", "msg": message})
    record.__dict__.update(extra)
    return record


def test_key_value_lines_quote_values_with_spaces() -> None:
    text = KeyValueFormatter().format(make_record("dead letter", reason='bad "x" value', pos=3))
    assert 'event="dead letter"' in text
    assert 'reason="bad \\"x\\" value"' in text
    assert "pos=3" in text
    assert "\n" not in text


def test_json_lines_carry_extra_fields() -> None:
    data = json.loads(JsonFormatter().format(make_record("started", port=6066)))
    assert data["event"] == "started"
    assert data["port"] == 6066
    assert data["level"] == "warning"
