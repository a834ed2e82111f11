"""deploy/prometheus/rules.yml and the ops dashboard: well-formed, and every metric they
name is one the code defines (promtool is not available here: the structure is checked)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

import ingest.metrics
import stream.metrics.definitions

DEPLOY = Path(__file__).parents[3] / "deploy"
METRIC = re.compile(r"\bcustoms_watch_[a-z0-9_]+\b")
BUILT_IN = {"up"}  # Prometheus's own series


def defined_samples() -> set[str]:
    """Every sample name the code's metrics can produce."""
    assert stream.metrics.definitions and ingest.metrics  # imported: registered
    suffixes = {
        "counter": ("_total",),
        "gauge": ("",),
        "histogram": ("_bucket", "_sum", "_count"),
        "summary": ("", "_sum", "_count"),
    }
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("customs_watch_"):
            names |= {family.name + s for s in suffixes[family.type]}
    return names


def test_metric_names_follow_the_conventions() -> None:
    names = defined_samples()
    assert len(names) > 30
    for name in names:
        assert name.startswith("customs_watch_")
        assert not re.search(r"_(ms|milliseconds|minutes|kb|mb)\b", name), name  # base units


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((DEPLOY / "prometheus" / "rules.yml").read_text("utf-8"))
    assert set(doc) == {"groups"}
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_alerting_rules_are_well_formed_and_cover_what_operators_need() -> None:
    rules = _rules()
    names = {r["alert"] for r in rules}
    for needed in ("LagGrowing", "DeadLetterBurst", "SinkPaused", "NoInput"):
        assert f"CustomsWatch{needed}" in names
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smhd]", rule.get("for", "0m"))
        assert rule["expr"].count("(") == rule["expr"].count(")")
        assert rule["expr"].count("[") == rule["expr"].count("]")


def test_every_metric_the_rules_name_is_defined() -> None:
    defined = defined_samples()
    for rule in _rules():
        used = set(METRIC.findall(rule["expr"]))
        assert used or re.match(r"(\w+)\{", rule["expr"]).group(1) in BUILT_IN, rule["alert"]  # type: ignore[union-attr]
        assert used <= defined, (rule["alert"], used - defined)


def _dashboard_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_ops_dashboard", DEPLOY / "grafana" / "make_ops_dashboard.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ops_dashboard_is_its_generator_output_and_queries_defined_metrics() -> None:
    text = (DEPLOY / "grafana" / "customs-watch-ops.json").read_text("utf-8")
    assert text == _dashboard_module().render(), "run deploy/grafana/make_ops_dashboard.py"
    board = json.loads(text)
    assert (
        board["uid"]
        != json.loads((DEPLOY / "grafana" / "customs-watch-dashboard.json").read_text("utf-8"))[
            "uid"
        ]
    )
    defined = defined_samples()
    used: set[str] = set()
    for panel in board["panels"]:
        assert panel["datasource"]["type"] == "prometheus"
        for target in panel["targets"]:
            used |= set(METRIC.findall(target["expr"]))
    assert used <= defined, used - defined
    # throughput, lag, dead letters, sink health, alert rate are all on it
    for metric in (
        "customs_watch_sink_rows_total",
        "customs_watch_consumer_lag_messages",
        "customs_watch_dead_letters_total",
        "customs_watch_sink_paused",
        "customs_watch_alerts_total",
    ):
        assert metric in used
