"""Write customs-watch-ops.json: the ops dashboard (Prometheus data source) next to the BI
one. Its queries use only the metrics stream/metrics/definitions.py and ingest/metrics.py
define (tests/unit/deploy/test_observability.py checks both that and that the file is this
script's output).

    .venv/bin/python deploy/grafana/make_ops_dashboard.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "customs-watch-ops.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# (title, unit, [(expr, legend)]), laid out two per row
PANELS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Lines in: published by connectors, landed by the sink (per second)",
        "ops",
        [
            (
                "sum by (source) (rate(customs_watch_connector_records_published_total[5m]))",
                "published {{source}}",
            ),
            ("sum by (table) (rate(customs_watch_sink_rows_total[5m]))", "landed {{table}}"),
        ],
    ),
    (
        "Stage throughput (lines per second)",
        "ops",
        [
            ("sum by (stage) (rate(customs_watch_stage_lines_in_total[5m]))", "in {{stage}}"),
            ("sum by (stage) (rate(customs_watch_stage_lines_out_total[5m]))", "out {{stage}}"),
        ],
    ),
    (
        "Consumer lag (messages)",
        "short",
        [("max by (group, topic) (customs_watch_consumer_lag_messages)", "{{group}} {{topic}}")],
    ),
    (
        "Dead letters (per minute)",
        "short",
        [
            (
                "sum by (stage, reason) (rate(customs_watch_dead_letters_total[5m])) * 60",
                "{{stage}}: {{reason}}",
            )
        ],
    ),
    (
        "Sink batch latency, plan to landed (p50, p95)",
        "s",
        [
            (
                "histogram_quantile(0.5, sum by (le) "
                "(rate(customs_watch_sink_batch_seconds_bucket[5m])))",
                "p50",
            ),
            (
                "histogram_quantile(0.95, sum by (le) "
                "(rate(customs_watch_sink_batch_seconds_bucket[5m])))",
                "p95",
            ),
        ],
    ),
    (
        "Sink batch size (rows, mean) and paused sinks",
        "short",
        [
            (
                "sum by (table) (rate(customs_watch_sink_batch_rows_sum[5m])) / "
                "sum by (table) (rate(customs_watch_sink_batch_rows_count[5m]))",
                "rows {{table}}",
            ),
            ("sum(customs_watch_sink_paused)", "paused sinks"),
        ],
    ),
    (
        "ClickHouse errors and sink retries (per minute)",
        "short",
        [
            (
                "sum by (code) (rate(customs_watch_clickhouse_errors_total[5m])) * 60",
                "code {{code}}",
            ),
            ("sum(rate(customs_watch_sink_retries_total[5m])) * 60", "retries"),
        ],
    ),
    (
        "Alerts raised (per hour)",
        "short",
        [
            (
                "sum by (rule, severity) (rate(customs_watch_alerts_total[1h])) * 3600",
                "{{rule}} ({{severity}})",
            )
        ],
    ),
    (
        "Time per line: screening, classification (p95)",
        "s",
        [
            (
                "histogram_quantile(0.95, sum by (le, stage) "
                "(rate(customs_watch_line_seconds_bucket[5m])))",
                "{{stage}}",
            )
        ],
    ),
    (
        "Watchlist: entries and age",
        "short",
        [
            ("max(customs_watch_watchlist_entries)", "entries"),
            ("time() - max(customs_watch_watchlist_loaded_timestamp_seconds)", "age (s)"),
        ],
    ),
]


def panel(n: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": n + 1,
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (n % 2), "y": 8 * (n // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": expr,
                "legendFormat": legend,
            }
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard() -> dict[str, Any]:
    return {
        "title": "customs-watch: operations",
        "uid": "customs-watch-ops",
        "description": "Throughput, lag, dead letters, sink health and alert rate of the "
        "customs-watch processes, from their Prometheus metrics.",
        "tags": ["customs-watch", "prometheus"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                    "current": {},
                }
            ]
        },
        "panels": [panel(n, *spec) for n, spec in enumerate(PANELS)],
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
