"""Raw records and a valid declaration line as the unit tests build them."""

from __future__ import annotations

from schemas.raw import RawRecord, payload_checksum

GOOD_LINE = {
    "declaration_id": "D1",
    "line_no": 1,
    "declared_at": "2024-01-02",
    "flow": "import",
    "hs_code": "8542.31",
    "value": "100",
    "currency": "USD",
}


def raw_record(
    payload: bytes,
    position: int,
    origin: str = "feed.jsonl",
    source: str = "jsonl",
    sequence: int | None = None,
) -> RawRecord:
    """A raw record carrying ``payload`` with its checksum, as a connector publishes it."""
    return RawRecord(
        source=source,
        origin=origin,
        position=position,
        payload=payload,
        checksum=payload_checksum(payload),
        sequence=sequence,
    )
