"""The one dead-letter path: how a rejected record reaches ``<prefix>.deadletter``.

Every stage that gives up on a record (a connector, an agent, the sink) sends it here: one
log line, the letter keyed by its source, its value in the dead-letter codec. Only the
client differs (kafka-python in the connectors, faust or aiokafka in the worker and the
sink), so the senders take a small ``enqueue(key, value)`` function over that client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from schemas.codecs import DEAD_LETTER
from schemas.dead_letter import DeadLetter

log = logging.getLogger(__name__)

Enqueue = Callable[[bytes, bytes], Awaitable[Awaitable[Any]]]
"""Hands one message (key, value) to a producer; the awaitable it returns is the broker's
acknowledgement (faust's ``Topic.send`` and aiokafka's ``send`` both have this shape)."""


def dead_letter_message(letter: DeadLetter) -> tuple[bytes, bytes]:
    """Key and value of the letter's message; logs it, since every letter goes through here."""
    log.warning(
        "dead letter",
        extra={
            "stage": letter.stage,
            "source": letter.source,
            "position": letter.position,
            "reason": letter.reason,
        },
    )
    return letter.source.encode(), DEAD_LETTER.encode(letter)


async def enqueue_dead_letters(enqueue: Enqueue, letters: Iterable[DeadLetter]) -> list[Any]:
    """Hand every letter to the producer; returns the acknowledgements still to await."""
    return [await enqueue(*dead_letter_message(letter)) for letter in letters]


async def send_dead_letters(enqueue: Enqueue, letters: Iterable[DeadLetter]) -> None:
    """Send every letter and wait until the broker acknowledged all of them."""
    acks = await enqueue_dead_letters(enqueue, letters)
    if acks:
        await asyncio.gather(*acks)


def publish_dead_letters(
    producer: Any, topic: str, letters: Iterable[DeadLetter], timeout_s: float = 60.0
) -> None:
    """Blocking variant for kafka-python producers: returns once every letter is acked."""
    futures = [
        producer.send(topic, key=key, value=value)
        for key, value in map(dead_letter_message, letters)
    ]
    for future in futures:
        future.get(timeout=timeout_s)
