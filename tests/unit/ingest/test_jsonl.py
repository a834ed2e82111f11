from pathlib import Path

from ingest.connectors.jsonl import JsonlConnector
from schemas.raw import payload_checksum


def test_lines_are_published_byte_for_byte_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    cp1251_line = '{"description": "Жилет"}'.encode("cp1251")
    path.write_bytes(b'{"a": 1}\r\n\n   \n' + cp1251_line + b"\n{broken")
    connector = JsonlConnector(path, source="ru-fts")
    out = list(connector.records())
    assert [r.position for r in out] == [1, 4, 5]
    assert [r.payload for r in out] == [b'{"a": 1}', cp1251_line, b"{broken"]
    assert all(r.checksum == payload_checksum(r.payload) for r in out)
    assert {r.source for r in out} == {"ru-fts"}
    assert connector.blank_lines == 2
