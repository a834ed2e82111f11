"""The console's /metrics, /healthz and /readyz (metrics on): ready while its triage store
answers; the outbox backlog and the actions counted."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from schemas.settings import Settings
from stream.console.server import _metrics, make_console, open_store


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _value(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not exported")


def test_console_endpoint_answers_and_counts_actions(tmp_path: Path) -> None:
    settings = Settings(
        console={"db_url": f"sqlite:///{tmp_path / 'console.db'}"},
        metrics={"enabled": True, "console_port": 0},
    )
    store = open_store(settings)
    endpoint = _metrics(settings, store)
    assert endpoint is not None
    try:
        assert _get(endpoint.port, "/healthz")[0] == 200
        assert _get(endpoint.port, "/readyz") == (200, "ready\n")
        status, text = _get(endpoint.port, "/metrics")
        assert status == 200
        assert _value(text, "customs_watch_console_outbox_pending") == 0
        before = _value(text, "customs_watch_console_actions_total")
        console = make_console(settings, store, outbox=None)
        console.poke()  # what the app calls once per recorded action
        after = _value(_get(endpoint.port, "/metrics")[1], "customs_watch_console_actions_total")
        assert after == before + 1
        store.engine.dispose()
        (tmp_path / "console.db").unlink()
        (tmp_path / "console.db").mkdir()  # the store's file is gone: not ready
        status, why = _get(endpoint.port, "/readyz")
        assert status == 503 and "readiness check failed" in why
    finally:
        endpoint.stop()


def test_metrics_are_off_by_default(tmp_path: Path) -> None:
    settings = Settings(console={"db_url": f"sqlite:///{tmp_path / 'console.db'}"})
    assert _metrics(settings, open_store(settings)) is None
