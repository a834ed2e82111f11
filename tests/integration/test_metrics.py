"""Metrics and health endpoints of running processes on the real local broker and the
embedded ClickHouse: a folder-watch connector, a stream worker and the sink, each scraped
and parsed with prometheus-client's parser; the values move when lines flow."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.services import CLI, Pipeline, free_port, wait_for

pytestmark = pytest.mark.integration

DEMO = Path(__file__).parents[2] / "ingest" / "samples" / "demo.jsonl"


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of ``/metrics``: (sample name, labels) → value."""
    status, text = get(port, "/metrics")
    assert status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def test_worker_sink_and_connector_serve_metrics_that_move_when_lines_flow(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in ("worker", "sink", "connector")}
    env = {
        **pipeline.env,
        "CUSTOMS_WATCH_METRICS_ENABLED": "true",
        "CUSTOMS_WATCH_METRICS_WORKER_PORT": str(ports["worker"]),
        "CUSTOMS_WATCH_METRICS_SINK_PORT": str(ports["sink"]),
        "CUSTOMS_WATCH_METRICS_CONNECTOR_PORT": str(ports["connector"]),
        "CUSTOMS_WATCH_METRICS_LAG_INTERVAL_S": "1",
    }
    pipeline.env = env
    sink = pipeline.start_worker(command="sink", env=env)
    pipeline.start_worker(
        ["--no-sink"], env={**env, "CUSTOMS_WATCH_WORKER_WEB_PORT": str(free_port())}
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    connector = subprocess.Popen(
        [CLI, "ingest", "watch", str(inbox), "--interval", "0.3"],
        env=env,
        stdout=(tmp_path / "connector.log").open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    pipeline.workers.append(connector)  # stopped with the others

    for name, port in ports.items():
        wait_for(lambda p=port: get(p, "/healthz")[0] == 200, 120, f"{name} /healthz", pipeline)
    wait_for(lambda: get(ports["sink"], "/readyz")[0] == 200, 120, "sink /readyz", pipeline)
    wait_for(lambda: get(ports["worker"], "/readyz")[0] == 200, 120, "worker /readyz", pipeline)
    assert get(ports["connector"], "/readyz")[0] == 200
    assert get(ports["sink"], "/nothing")[0] == 404

    before_sink = scrape(ports["sink"])
    assert total(before_sink, "customs_watch_sink_rows_total", table="declarations") == 0
    assert total(scrape(ports["connector"]), "customs_watch_connector_records_published_total") == 0

    lines = sum(1 for line in DEMO.read_text("utf-8").splitlines() if line.strip())
    shutil.copy(DEMO, inbox / "demo.jsonl")

    def connector_published() -> bool:
        samples = scrape(ports["connector"])
        return total(samples, "customs_watch_connector_files_total", outcome="published") == 1

    wait_for(connector_published, 60, "the connector's file metric", pipeline)
    samples = scrape(ports["connector"])
    assert (
        total(samples, "customs_watch_connector_records_published_total", source="watch") == lines
    )
    assert total(samples, "customs_watch_connector_published_bytes_total", source="watch") > 0
    assert (
        total(samples, "customs_watch_connector_last_publish_timestamp_seconds") > time.time() - 120
    )

    pipeline.cli("wait", "--timeout", "180")  # the worker's group, then the sink's, drained
    after = scrape(ports["sink"])
    landed = total(after, "customs_watch_sink_rows_total", table="declarations")
    refused = total(after, "customs_watch_sink_rows_total", table="dead_letters")
    # every line is either a row or (the sample's three broken lines) a dead letter
    assert landed > 0 and refused > 0
    assert landed + refused == lines
    assert total(after, "customs_watch_sink_batch_rows_count", table="declarations") >= 1
    assert total(after, "customs_watch_sink_batch_rows_sum", table="declarations") == landed
    assert total(after, "customs_watch_sink_batch_seconds_count", table="declarations") >= 1
    assert total(after, "customs_watch_sink_paused") == 0
    assert total(after, "customs_watch_sink_assigned_partitions") > 0

    # lag: each process measures its own group; once drained, the sink's group is at 0
    group = f"{pipeline.settings.worker.app_id}-sink"
    enriched = pipeline.settings.topics.enriched

    def sink_lag_zero() -> bool:
        samples = scrape(ports["sink"])
        polls = total(samples, "customs_watch_consumer_lag_polls_total", group=group, outcome="ok")
        lag_seen = (
            "customs_watch_consumer_lag_messages",
            frozenset({("group", group), ("topic", enriched)}),
        ) in samples
        return (
            polls > 0
            and lag_seen
            and total(samples, "customs_watch_consumer_lag_messages", group=group, topic=enriched)
            == 0
        )

    wait_for(sink_lag_zero, 60, "the sink's lag back at 0", pipeline)
    worker = scrape(ports["worker"])
    app_id = pipeline.settings.worker.app_id
    assert total(worker, "customs_watch_consumer_lag_polls_total", group=app_id, outcome="ok") > 0

    assert pipeline.stop_worker(sink) == 0
