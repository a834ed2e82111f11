"""The pieces of the long-running connectors that need no broker: stopping on a signal and
the dead letter of a refused file."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.service import REFUSED_HEAD_BYTES, refused_letter, stop_on_signals


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_asks_the_loop_to_stop_instead_of_killing_it(
    handlers: None, signum: signal.Signals
) -> None:
    stop = stop_on_signals()
    assert not stop()
    signal.raise_signal(signum)
    assert stop()


def test_a_refused_file_becomes_an_ingest_letter_with_its_first_bytes(tmp_path: Path) -> None:
    path = tmp_path / "failed" / "big.bin"
    path.parent.mkdir()
    path.write_bytes(b"x" * (REFUSED_HEAD_BYTES + 10))
    letter = refused_letter("watch", path, "no connector reads .bin")
    assert (letter.stage, letter.source, letter.origin, letter.position) == (
        "ingest",
        "watch",
        str(path),
        0,
    )
    assert letter.reason == "no connector reads .bin"
    assert letter.payload == b"x" * REFUSED_HEAD_BYTES
