"""Run the faust worker: the stream agents and, where this worker owns ClickHouse, the sink.

With the sink enabled (default) the worker migrates ClickHouse, owns the embedded data dir,
serves the named queries and runs the sink next to the agents. ``--no-sink`` runs the agents
only and never opens ClickHouse: the way to add workers on the embedded engine, which only
one process may open.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust

from ingest.broker.deadletters import send_dead_letters
from schemas.dead_letter import DeadLetter
from schemas.rule_data import default_rules
from schemas.settings import Settings
from stream import logs, native
from stream.metrics.endpoint import LagPoller, MetricsEndpoint, start_endpoint
from stream.runtime import tune_gc
from stream.sink.service import Sink, sink_group
from stream.sink.tables import sink_tables
from stream.warehouse import ownership
from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.web import QueryGate, check_exposure, register_pages
from stream.worker.agents import register_agents, sender
from stream.worker.app import Topics, create_app
from stream.worker.patches import check_patches, patch_fetch_wait, patch_highwaters

log = logging.getLogger(__name__)


def _dead_letter_sender(topics: Topics) -> Any:
    enqueue = sender(topics.deadletter)

    async def send(letters: list[DeadLetter]) -> None:
        await send_dead_letters(enqueue, letters)

    return send


def _register_sink(app: faust.App, topics: Topics, settings: Settings, wh: AsyncWarehouse) -> Sink:
    sink = Sink(settings, wh, _dead_letter_sender(topics), alongside_agents=True)

    @app.task  # type: ignore[untyped-decorator]
    async def run_sink() -> None:
        await sink.run()

    async def stop_sink(app: faust.App, **kwargs: Any) -> None:
        sink.stop()

    app.on_before_shutdown.connect(stop_sink)  # type: ignore[arg-type]
    return sink


def _readiness(app: faust.App, sink: Sink | None) -> Callable[[], str | None]:
    """``/readyz``: the faust consumer started, no rebalance or table recovery under way,
    partitions assigned, and the sink (when this worker runs it) ready too."""

    def why_not() -> str | None:
        consumer = getattr(app, "_consumer", None)
        if consumer is None:
            return "faust consumer not started"
        if getattr(app, "rebalancing", False):
            return "rebalancing"
        if getattr(app, "in_recovery", False):
            return "recovering tables"
        if not consumer.assignment():
            return "no partition assigned"
        return sink.why_not_ready() if sink is not None else None

    return why_not


def _start_metrics(
    settings: Settings, app: faust.App, sink: Sink | None
) -> tuple[MetricsEndpoint | None, list[LagPoller]]:
    """The worker's /metrics, /healthz, /readyz and its groups' lag (metrics on only). The
    stage metrics are moved by the agents (stream.metrics.definitions)."""
    endpoint = start_endpoint(settings, "worker", _readiness(app, sink))
    if endpoint is None:
        return None, []
    pollers = [LagPoller(settings, settings.worker.app_id, settings.topics.worker_inputs())]
    if sink is not None:
        pollers.append(
            LagPoller(settings, sink_group(settings), list(sink_tables(settings.topics)))
        )
    return endpoint, [p.start() for p in pollers]


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Block until the worker stops (SIGTERM/SIGINT); exits the process like faust does."""
    check_patches()  # before anything is claimed: an outdated faust stops the worker here
    check_exposure(settings.worker)  # no web port off loopback without a token
    rules = default_rules()
    native_stages = native.state()
    with_sink = settings.sink.enabled
    data_dir: Path | None = settings.clickhouse.embedded_path() if with_sink else None
    url = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
    if data_dir is not None:
        ownership.claim(data_dir, url)
    warehouse = AsyncWarehouse(settings.clickhouse) if with_sink else None
    endpoint: MetricsEndpoint | None = None
    pollers: list[LagPoller] = []
    try:
        applied = warehouse.migrate() if warehouse else []
        ttls = warehouse.apply_ttls() if warehouse else []
        patch_highwaters(settings)
        patch_fetch_wait(settings.kafka.fetch_max_wait_ms)
        app, topics = create_app(settings)
        register_agents(app, topics, settings, rules)
        sink = None
        if warehouse is not None:
            register_pages(app, QueryGate(warehouse, settings.worker))
            sink = _register_sink(app, topics, settings, warehouse)
        endpoint, pollers = _start_metrics(settings, app, sink)
        log.info(
            "worker starting",
            extra={
                "app_id": settings.worker.app_id,
                "bootstrap": settings.kafka.bootstrap,
                "sources": ",".join(settings.topics.sources),
                "web": url,
                "rules_version": rules.version,
                "sink": with_sink,
                "migrations_applied": ",".join(applied) or "-",
                "ttls": ",".join(ttls) or "-",
                "embedded_clickhouse": data_dir is not None,
                "compiled_stages": native_stages.reason,
            },
        )
        if not native_stages.on:  # more CPU per line (BENCHMARKS.md, session 9)
            log.warning("stages run as plain Python", extra={"why": native_stages.reason})
        worker = faust.Worker(
            app,
            loglevel=loglevel,
            logging_config=logs.logging_config(settings.log, loglevel.upper()),
            redirect_stdouts=False,
        )
        # faust's terminal spinner sets the root logger to DEBUG (every debug record of
        # faust, aiokafka and mode is then built, ~5 % of the worker); our log handlers print
        # progress instead.
        worker.spinner = None
        tune_gc(settings.worker.gc_thresholds)
        # faust installs its own SIGINT/SIGTERM handlers; SIGHUP would otherwise kill us
        # without the finally block below releasing the data directory.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        worker.execute_from_commandline()
    finally:
        if endpoint is not None:
            endpoint.stop()
        for poller in pollers:
            poller.stop()
        if warehouse is not None:
            warehouse.close()
        if data_dir is not None:
            ownership.release(data_dir)
