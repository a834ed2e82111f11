"""``customs-watch worker``, ``sink`` and ``wait``: the long-running processes, and waiting
until they caught up."""

from __future__ import annotations

from typing import Annotated

import typer

from schemas.settings import Settings
from stream.cli.context import settings_of


def _with_web_port(settings: Settings, web_port: int | None) -> Settings:
    if web_port is None:
        return settings
    return settings.model_copy(
        update={"worker": settings.worker.model_copy(update={"web_port": web_port})}
    )


def worker(
    ctx: typer.Context,
    web_port: Annotated[
        int | None,
        typer.Option(help="Port of the worker's web server (env CUSTOMS_WATCH_WORKER_WEB_PORT)."),
    ] = None,
    loglevel: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    sink: Annotated[
        bool | None,
        typer.Option(
            "--sink/--no-sink",
            help="Run the ClickHouse sink in this worker (env CUSTOMS_WATCH_SINK_ENABLED, "
            "default on). On the embedded engine only one worker may; start more with "
            "--no-sink.",
        ),
    ] = None,
) -> None:
    """Run the stream worker: parse → normalise → classify → screen → alert → topics, and
    the sink that batches enriched lines, alerts and dead letters into ClickHouse."""
    from stream.worker.process import run_worker

    settings = _with_web_port(settings_of(ctx), web_port)
    if sink is not None:
        settings = settings.model_copy(
            update={"sink": settings.sink.model_copy(update={"enabled": sink})}
        )
    run_worker(settings, loglevel)


def sink(
    ctx: typer.Context,
    web_port: Annotated[
        int | None,
        typer.Option(help="Port for the named queries (env CUSTOMS_WATCH_WORKER_WEB_PORT)."),
    ] = None,
) -> None:
    """Run only the ClickHouse sink (enriched lines, alert versions, dead letters → ClickHouse),
    for use with `worker --no-sink`: on a second core, or scaled apart from the stream."""
    from stream.sink.process import run_sink

    settings = _with_web_port(settings_of(ctx), web_port)
    run_sink(settings)


def wait(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option(help="Seconds before giving up.")] = 120.0,
) -> None:
    """Wait until the workers' consumer group, then the sink's, processed everything on their
    topics (the sink's rows are then in ClickHouse)."""
    import time

    from ingest.broker.admin import wait_until_drained
    from stream.sink.service import sink_group
    from stream.sink.tables import sink_tables

    settings = settings_of(ctx)
    deadline = time.monotonic() + timeout
    lag = wait_until_drained(
        settings, settings.worker.app_id, settings.topics.worker_inputs(), timeout
    )
    if settings.sink.enabled:
        left = max(1.0, deadline - time.monotonic())
        sink_topics = list(sink_tables(settings.topics))
        lag |= wait_until_drained(settings, sink_group(settings), sink_topics, left)
    typer.echo("drained: " + ", ".join(f"{t}={n}" for t, n in sorted(lag.items())))
