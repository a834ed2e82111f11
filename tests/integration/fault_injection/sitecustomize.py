"""Loaded by the worker process of ``test_stalled_commit.py`` (on its PYTHONPATH only): faust's
consumer loses the acknowledgement of the records named in ``CUSTOMS_WATCH_TEST_LOSE_ACKS``
(``<topic suffix>:<partition>:<offset>,…``), once each, the way faust loses one around a
restart: the record counts as acknowledged and never reaches the commit."""

from __future__ import annotations

import os
from typing import Any

_named = os.environ.get("CUSTOMS_WATCH_TEST_LOSE_ACKS", "")
if _named:
    from faust.transport import consumer as _consumer

    _lose = set()
    for _item in _named.split(","):
        _suffix, _partition, _offset = _item.rsplit(":", 2)
        _lose.add((_suffix, int(_partition), int(_offset)))
    _lost: set[tuple[str, int, int]] = set()
    _ack = _consumer.Consumer.ack

    def _losing_ack(self: Any, message: Any) -> bool:
        for suffix, partition, offset in _lose - _lost:
            if (
                message.topic.endswith(suffix)
                and message.partition == partition
                and message.offset == offset
                and not message.acked
            ):
                _lost.add((suffix, partition, offset))
                message.acked = True
                self._unacked_messages.discard(message)
                return False
        return bool(_ack(self, message))

    _consumer.Consumer.ack = _losing_ack
