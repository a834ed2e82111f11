"""deploy/local-broker against the session's broker: reuse of an external broker, and errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local-broker"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "CUSTOMS_WATCH_PYTHON": sys.executable},
        check=False,
    )


def test_an_external_broker_is_used_and_nothing_is_started(bootstrap: str, tmp_path: Path) -> None:
    env = {**os.environ, "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": bootstrap}
    started = run("start", "--state-dir", str(tmp_path), env=env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == bootstrap
    assert not (tmp_path / "tansu.pid").exists()
    assert run("status", "--state-dir", str(tmp_path), env=env).returncode == 0
    stopped = run("stop", "--state-dir", str(tmp_path), env=env)
    assert "nothing to stop" in stopped.stderr


def test_an_unreachable_external_broker_fails_clearly(tmp_path: Path) -> None:
    env = {**os.environ, "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    started = run("start", "--state-dir", str(tmp_path), "--timeout", "3", env=env)
    assert started.returncode == 1
    assert "does not answer" in started.stderr
