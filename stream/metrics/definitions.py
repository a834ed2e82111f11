"""Every metric a stream process exports, and the functions that move them.

Conventions (prometheus.io/docs/practices/naming): ``customs_watch_`` prefix, counters end
in ``_total``, durations in seconds. Label values come from small sets (stage, table, rule,
severity, reason class, error code): a dead letter's reason is cut to its class (the text
before the first ``:``, at most 60 characters) so each letter's details never become a
series of their own.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

# -- the stream stages (the worker's agents call these) ---------------------------------------
STAGE_IN = Counter(
    "customs_watch_stage_lines_in_total", "Lines (or records) a stage received.", ["stage"]
)
STAGE_OUT = Counter(
    "customs_watch_stage_lines_out_total", "Lines (or records) a stage passed on.", ["stage"]
)
DEAD_LETTERS = Counter(
    "customs_watch_dead_letters_total",
    "Records sent to the dead-letter topic, by stage and reason class.",
    ["stage", "reason"],
)
STAGE_SECONDS = Counter(
    "customs_watch_stage_seconds_total", "Time a stage spent on its lines.", ["stage"]
)
LINE_SECONDS = Histogram(
    "customs_watch_line_seconds",
    "Time per line of a stage (a batch's time over its lines; screening, classification).",
    ["stage"],
    buckets=(1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1, 1.0),
)
ALERTS = Counter(
    "customs_watch_alerts_total",
    "Alerts published to the watchers (<prefix>.alerts), by rule and severity "
    "(severity 'withdrawn' for a withdrawal).",
    ["rule", "severity"],
)
WATCHLIST_ENTRIES = Gauge(
    "customs_watch_watchlist_entries", "Entries of the sanctions watchlist in use."
)
WATCHLIST_LOADED = Gauge(
    "customs_watch_watchlist_loaded_timestamp_seconds",
    "Unix time the watchlist in use was loaded (its age: time() minus this).",
)

# -- consumer lag (each process polls its own group) -------------------------------------------
CONSUMER_LAG = Gauge(
    "customs_watch_consumer_lag_messages",
    "Messages not yet processed by a consumer group, per topic (every process of a group "
    "reports the whole group's lag: aggregate with max, not sum).",
    ["group", "topic"],
)
CONSUMER_LAG_POLLS = Counter(
    "customs_watch_consumer_lag_polls_total",
    "Lag measurements, by outcome (ok, failed).",
    ["group", "outcome"],
)

# -- the ClickHouse sink ---------------------------------------------------------------------
SINK_ROWS = Counter("customs_watch_sink_rows_total", "Rows the sink inserted.", ["table"])
SINK_BATCHES = Counter(
    "customs_watch_sink_batches_total",
    "Batches the sink landed, by table and kind (inserted, replayed: already landed).",
    ["table", "kind"],
)
SINK_BATCH_ROWS = Histogram(
    "customs_watch_sink_batch_rows",
    "Rows per inserted batch.",
    ["table"],
    buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000, 50000),
)
SINK_BATCH_SECONDS = Histogram(
    "customs_watch_sink_batch_seconds",
    "Time from a batch's plan to its landed mark (retries included).",
    ["table"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
SINK_RETRIES = Counter(
    "customs_watch_sink_retries_total",
    "ClickHouse calls the sink retried (ClickHouse unavailable).",
)
CLICKHOUSE_ERRORS = Counter(
    "customs_watch_clickhouse_errors_total",
    "ClickHouse errors the sink met, by server error code ('connection' when none).",
    ["code"],
)
SINK_PAUSED = Gauge(
    "customs_watch_sink_paused", "1 while the sink is paused waiting for ClickHouse, else 0."
)
SINK_ASSIGNED = Gauge(
    "customs_watch_sink_assigned_partitions", "Topic partitions assigned to this sink."
)

# -- the ops console ---------------------------------------------------------------------------
CONSOLE_ACTIONS = Counter(
    "customs_watch_console_actions_total",
    "Triage actions and suppression decisions the console recorded.",
)
CONSOLE_OUTBOX = Gauge(
    "customs_watch_console_outbox_pending",
    "Console actions waiting in the outbox for <prefix>.alert-actions.",
)


def reason_class(reason: str) -> str:
    """A dead-letter reason as a label value: its class, not its details."""
    head = reason.split(":", 1)[0].strip()
    return head[:60] or "unknown"


def observe_stage(stage: str, lines_in: int, lines_out: int, dead_letters: int = 0) -> None:
    """One batch (or record) through a stage. ``dead_letters`` without a reason count under
    reason ``unspecified``; prefer :func:`observe_dead_letter` per letter."""
    STAGE_IN.labels(stage).inc(lines_in)
    STAGE_OUT.labels(stage).inc(lines_out)
    if dead_letters:
        DEAD_LETTERS.labels(stage, "unspecified").inc(dead_letters)


def observe_dead_letter(stage: str, reason: str, count: int = 1) -> None:
    DEAD_LETTERS.labels(stage, reason_class(reason)).inc(count)


def observe_stage_seconds(stage: str, seconds: float, lines: int) -> None:
    """A stage's time on a batch of ``lines`` lines (per-line time into the histogram)."""
    STAGE_SECONDS.labels(stage).inc(seconds)
    if lines > 0:
        LINE_SECONDS.labels(stage).observe(seconds / lines)


def observe_alert(rule: str, severity: str, count: int = 1) -> None:
    ALERTS.labels(rule, severity).inc(count)


def observe_watchlist(entries: int, loaded_at: float | None = None) -> None:
    """The watchlist in use was (re)loaded with ``entries`` entries."""
    WATCHLIST_ENTRIES.set(entries)
    WATCHLIST_LOADED.set(time.time() if loaded_at is None else loaded_at)


def observe_sink_batch(table: str, rows: int, seconds: float, replayed: bool) -> None:
    SINK_BATCHES.labels(table, "replayed" if replayed else "inserted").inc()
    if not replayed:
        SINK_ROWS.labels(table).inc(rows)
        SINK_BATCH_ROWS.labels(table).observe(rows)
        SINK_BATCH_SECONDS.labels(table).observe(seconds)


def observe_clickhouse_error(exc: BaseException) -> None:
    """A ClickHouse call failed and will be retried: count it by the server's code."""
    SINK_RETRIES.inc()
    cause = exc.__cause__ or exc
    code = getattr(cause, "code", None)
    CLICKHOUSE_ERRORS.labels(str(code) if code else "connection").inc()
