"""ingest.broker.partitioner: the partition kafka-python's default partitioner gives a key."""

import random

from kafka.partitioner.default import DefaultPartitioner
from kafka.partitioner.default import murmur2 as kafka_murmur2

from ingest.broker.partitioner import key_partition, murmur2

KEYS = [
    b"",
    b"a",
    b"ab",
    b"abc",
    b"abcd",
    "name\x00ооо «вектор-снаб»\x00RU".encode(),
    b"identifier\x00ru_inn:7704730655",
    b"P0123456789abcdef",
]


def test_the_hash_is_kafkas_for_every_length_and_byte() -> None:
    rng = random.Random(16)
    keys = [*KEYS, *(rng.randbytes(n) for n in range(300) for _ in range(5))]
    keys.append(bytes(range(256)) * 3)
    for key in keys:
        assert murmur2(key) == kafka_murmur2(key), key


class Cluster:
    """The metadata DefaultPartitioner asks: a topic and its partitions, some unavailable."""

    def __init__(self, partitions: set[int]) -> None:
        self.partitions = partitions

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return {min(self.partitions)}


def test_the_partition_is_the_default_partitioners() -> None:
    rng = random.Random(17)
    keys = [*KEYS, *(rng.randbytes(rng.randrange(1, 80)) for _ in range(2000))]
    for count in (1, 3, 4, 12):
        cluster = Cluster(set(range(count)))
        expected = DefaultPartitioner()
        for key in keys:
            chosen = expected.partition("t", key, key, b"v", b"v", cluster)
            assert key_partition(key, sorted(cluster.partitions)) == chosen
