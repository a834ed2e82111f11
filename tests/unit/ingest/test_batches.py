from ingest.connectors.base import batches
from schemas.raw import RawRecord, payload_checksum


def records(n: int, origin: str = "a", size: int = 10) -> list[RawRecord]:
    payload = b"x" * size
    return [
        RawRecord(
            source="s",
            origin=origin,
            position=i,
            payload=payload,
            checksum=payload_checksum(payload),
        )
        for i in range(1, n + 1)
    ]


def test_batches_are_bounded_by_count() -> None:
    out = list(batches(records(25), max_records=10, max_bytes=10_000))
    assert [len(b.records) for b in out] == [10, 10, 5]
    assert [r.position for b in out for r in b.records] == list(range(1, 26))


def test_batches_are_bounded_by_bytes_and_an_oversized_record_travels_alone() -> None:
    out = list(batches(records(5, size=400), max_records=100, max_bytes=1000))
    assert [len(b.records) for b in out] == [2, 2, 1]
    big = list(batches(records(1, size=5000), max_records=100, max_bytes=1000))
    assert [len(b.records) for b in big] == [1]


def test_a_new_origin_starts_a_new_batch() -> None:
    out = list(batches(records(3, "a") + records(2, "b"), max_records=100, max_bytes=10_000))
    assert [(b.origin, len(b.records)) for b in out] == [("a", 3), ("b", 2)]
