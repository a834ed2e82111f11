"""``customs-watch db migrate``, ``ddl`` and ``query``: the ClickHouse schema and the named
queries."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from stream.cli.context import settings_of

db_app = typer.Typer(help="ClickHouse schema.", no_args_is_help=True)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@db_app.command("migrate")
def db_migrate(ctx: typer.Context) -> None:
    """Apply the DDL files in schemas/clickhouse/ not applied yet (idempotent), then set the
    tables' TTLs from the settings (CUSTOMS_WATCH_CLICKHOUSE_*_TTL_DAYS)."""
    from stream.warehouse.migrations import migrate_database

    applied, ttls = migrate_database(settings_of(ctx).clickhouse)
    typer.echo("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    typer.echo("ttl: " + (", ".join(ttls) if ttls else "none"))


class DdlMode(StrEnum):
    single = "single"
    cluster = "cluster"


@db_app.command("ddl")
def db_ddl(
    ctx: typer.Context,
    mode: Annotated[
        DdlMode | None,
        typer.Option(help="single or cluster; default: cluster when CLICKHOUSE_CLUSTER is set."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Cluster name in cluster mode (default CUSTOMS_WATCH_CLICKHOUSE_CLUSTER)."
        ),
    ] = None,
) -> None:
    """Print every statement `db migrate` runs, single-node or cluster (replicated tables ON
    CLUSTER with Distributed tables over them; docs/deploy.md). Connects to nothing."""
    from stream.warehouse.cluster import Cluster
    from stream.warehouse.migrations import render_ddl

    ch = settings_of(ctx).clickhouse
    name = cluster or ch.cluster
    if mode is None:
        mode = DdlMode.cluster if name else DdlMode.single
    if mode is DdlMode.cluster and not name:
        raise typer.BadParameter("cluster mode needs a cluster name", param_hint="--cluster")
    target = Cluster(name, ch.database) if mode is DdlMode.cluster and name else None
    sys.stdout.write(render_ddl(target))


def query(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A file stem in schemas/clickhouse/queries/.")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, csv or json.")
    ] = OutputFormat.table,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only declarations from this date on (YYYY-MM-DD), where the query takes a date."
        ),
    ] = None,
    party: Annotated[
        str | None,
        typer.Option(
            help="Only this party (an id, or a name it was written as: exactly in any case, "
            "else a part), where the query takes one (party_profile, party_network)."
        ),
    ] = None,
) -> None:
    """Run a named query; asks the worker (or sink process) that owns the embedded data
    directory when one runs.

    The queries and what each answers: docs/queries.md."""
    import orjson

    from stream.warehouse.queries import named_queries, named_query

    if name not in named_queries():
        typer.echo(f"no query named {name!r}; known: {', '.join(named_queries())}", err=True)
        raise typer.Exit(2)
    from datetime import date

    try:
        since_day = date.fromisoformat(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter("a date, YYYY-MM-DD", param_hint="--since") from exc
    from stream.warehouse.queries import takes_party

    if party and not takes_party(name):
        raise typer.BadParameter(f"{name} takes no party", param_hint="--party")
    settings = settings_of(ctx)
    result = named_query(
        settings.clickhouse, name, since_day, token=settings.worker.web_token, party=party
    )
    if output is OutputFormat.json:
        sys.stdout.write(orjson.dumps(result.as_dicts(), default=str).decode() + "\n")
        return
    if output is OutputFormat.csv:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(["" if v is None else v for v in row] for row in result.rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=name)
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(width=160).print(table)
