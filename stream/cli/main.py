"""``customs-watch``: the one command line. Each subcommand imports what it needs lazily.

Settings come from ``CUSTOMS_WATCH_*`` environment variables; the global flags below
override them for one call. Commands live in one module per group; the order they are
registered in below is the order ``--help`` lists them in.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from schemas.settings import Settings
from stream.cli import classify, db, processes
from stream.cli.alerts import alerts_app
from stream.cli.console import console_app
from stream.cli.db import db_app
from stream.cli.deadletter import deadletter_app
from stream.cli.ingest import ingest_app
from stream.cli.native import native_app
from stream.cli.party import party_app
from stream.cli.schemas import schemas_app
from stream.cli.topics import topics_app
from stream.cli.watchlist import watchlist_app

app = typer.Typer(
    name="customs-watch",
    help="Ingest customs declaration feeds, classify dual-use and battlefield goods, alert.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(processes.worker)
app.command()(processes.sink)
app.command()(processes.wait)
app.command()(db.query)
app.command()(classify.classify)
app.command("eval")(classify.evaluate_labelled)
app.command()(classify.generate)
app.add_typer(topics_app, name="topics")
app.add_typer(ingest_app, name="ingest")
app.add_typer(db_app, name="db")
app.add_typer(schemas_app, name="schemas")
app.add_typer(deadletter_app, name="deadletter")
app.add_typer(watchlist_app, name="watchlist")
app.add_typer(alerts_app, name="alerts")
app.add_typer(console_app, name="console")
app.add_typer(party_app, name="party")
app.add_typer(native_app, name="native")


@app.callback()
def main_options(
    ctx: typer.Context,
    bootstrap: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers (env CUSTOMS_WATCH_KAFKA_BOOTSTRAP)."),
    ] = None,
    clickhouse_dsn: Annotated[
        str | None,
        typer.Option(
            help="chdb://<dir> or http://user:pass@host:8123/db (env CUSTOMS_WATCH_CLICKHOUSE_DSN)."
        ),
    ] = None,
    topic_prefix: Annotated[
        str | None,
        typer.Option(help="First part of every topic name (env CUSTOMS_WATCH_TOPICS_PREFIX)."),
    ] = None,
    sources: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated feeds the worker reads (env CUSTOMS_WATCH_TOPICS_SOURCES)."
        ),
    ] = None,
    watchlist_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder of saved watchlists (env CUSTOMS_WATCH_SCREENING_WATCHLIST_DIR)."
        ),
    ] = None,
    log_format: Annotated[
        str | None, typer.Option("--log", help="Log format: kv or json (env CUSTOMS_WATCH_LOG).")
    ] = None,
) -> None:
    """Global options; every subcommand has --help."""
    from stream import logs

    overrides: dict[str, Any] = {}
    if bootstrap:
        overrides.setdefault("kafka", {})["bootstrap"] = bootstrap
    if clickhouse_dsn:
        overrides.setdefault("clickhouse", {})["dsn"] = clickhouse_dsn
    if topic_prefix:
        overrides.setdefault("topics", {})["prefix"] = topic_prefix
    if sources:
        overrides.setdefault("topics", {})["sources"] = sources
    if watchlist_dir:
        overrides.setdefault("screening", {})["watchlist_dir"] = watchlist_dir
    if log_format:
        overrides["log"] = log_format
    settings = Settings(**overrides)
    logs.configure(settings.log)
    ctx.obj = settings


def main() -> None:
    from schemas.errors import CustomsWatchError

    try:
        app()
    except CustomsWatchError as exc:
        typer.echo(f"customs-watch: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
