"""The partition Kafka's default partitioner gives a keyed record, computed word by word.

kafka-python's ``DefaultPartitioner`` (and the Java client's) takes ``murmur2(key)`` modulo
the partition count. Its pure-Python ``murmur2`` reads the key byte by byte; this one reads
it four bytes at a time (``struct``), same hash (tested against kafka-python's on random
keys). A publisher that sends many small keyed records names the partition itself with
:func:`key_partition`, so a key lands where every other producer of the topic puts it.
"""

from __future__ import annotations

import struct
from functools import cache

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


@cache
def _words(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}I")


def murmur2(data: bytes) -> int:
    """MurmurHash2 of ``data`` as Kafka computes it (unsigned 32 bits)."""
    length = len(data)
    h = _SEED ^ length
    for k in _words(length >> 2).unpack_from(data):
        k = (k * _M) & _MASK
        k ^= k >> 24
        h = ((h * _M) & _MASK) ^ ((k * _M) & _MASK)
    tail, end = length & 3, length & ~3
    if tail >= 3:
        h ^= data[end + 2] << 16
    if tail >= 2:
        h ^= data[end + 1] << 8
    if tail >= 1:
        h = ((h ^ data[end]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def key_partition(key: bytes, partitions: list[int]) -> int:
    """The partition of ``key`` among the topic's ``partitions`` (sorted), as the default
    partitioner picks it."""
    return partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
