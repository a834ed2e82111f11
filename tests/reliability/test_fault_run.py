"""The fault run, short: 12 000 lines, three worker kills, each ClickHouse refusal for 6 s,
topics deleted and created again halfway — every line once, no dead letter. ``make fault``
runs the long one (200 000 lines, 60 s refusals) and records it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.fault_run import fault_run

pytestmark = pytest.mark.integration


def test_every_line_once_through_kills_refusals_and_recreated_topics(
    bootstrap: str, tmp_path: Path
) -> None:
    report = fault_run(bootstrap, tmp_path, lines=12_000, fault_s=6, kills=3)
    assert report.exactly_once, "\n".join([str(report), *report.events])
    assert sum("SIGKILLed" in event for event in report.events) == 3
