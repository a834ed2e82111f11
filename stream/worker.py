"""Run the faust worker: migrate ClickHouse, own the embedded data dir, start the agents."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import faust

from schemas.rule_data import default_rules
from schemas.settings import Settings
from stream import logs, ownership
from stream.agents import register_agents
from stream.app import create_app
from stream.fetch_wait import patch_fetch_wait
from stream.recovery import patch_highwaters
from stream.sink import AsyncWarehouse
from stream.web import register_pages

log = logging.getLogger(__name__)


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Block until the worker stops (SIGTERM/SIGINT); exits the process like faust does."""
    rules = default_rules()
    data_dir: Path | None = settings.clickhouse.embedded_path()
    url = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
    if data_dir is not None:
        ownership.claim(data_dir, url)
    warehouse = AsyncWarehouse(settings.clickhouse)
    try:
        applied = warehouse.migrate()
        patch_highwaters(settings)
        patch_fetch_wait(settings.kafka.fetch_max_wait_ms)
        app, topics = create_app(settings)
        register_agents(app, topics, settings, rules, warehouse)
        register_pages(app, warehouse)
        log.info(
            "worker starting",
            extra={
                "app_id": settings.worker.app_id,
                "bootstrap": settings.kafka.bootstrap,
                "sources": ",".join(settings.topics.sources),
                "web": url,
                "rules_version": rules.version,
                "migrations_applied": ",".join(applied) or "-",
                "embedded_clickhouse": data_dir is not None,
            },
        )
        worker = faust.Worker(
            app,
            loglevel=loglevel,
            logging_config=logs.logging_config(settings.log, loglevel.upper()),
            redirect_stdouts=False,
        )
        # faust installs its own SIGINT/SIGTERM handlers; SIGHUP would otherwise kill us
        # without the finally block below releasing the data directory.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        worker.execute_from_commandline()
    finally:
        warehouse.close()
        if data_dir is not None:
            ownership.release(data_dir)
