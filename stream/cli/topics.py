"""``customs-watch topics …``: create, list and delete the project's Kafka topics."""

from __future__ import annotations

from typing import Annotated

import typer

from stream.cli.context import settings_of

topics_app = typer.Typer(
    help="Create, list and delete the project's Kafka topics.", no_args_is_help=True
)


@topics_app.command("create")
def topics_create(ctx: typer.Context) -> None:
    """Create the project's topics: one raw topic per source, the stages' topics, alerts and
    dead letters (idempotent)."""
    from ingest.broker.admin import create_topics

    for name, outcome in create_topics(settings_of(ctx)).items():
        typer.echo(f"{name}\t{outcome}")


@topics_app.command("list")
def topics_list(ctx: typer.Context) -> None:
    """List the topics on the broker, marking the project's own."""
    from ingest.broker.admin import existing_topics

    settings = settings_of(ctx)
    ours = set(settings.topics.all_names())
    for name in sorted(existing_topics(settings)):
        typer.echo(f"{name}\t{'project' if name in ours else 'other'}")


@topics_app.command("delete")
def topics_delete(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: topics and data are lost.")] = False,
) -> None:
    """Delete the project's topics (all their messages are lost)."""
    from ingest.broker.admin import delete_topics

    if not yes:
        typer.echo("refusing without --yes: deleting topics loses their messages", err=True)
        raise typer.Exit(2)
    settings = settings_of(ctx)
    delete_topics(settings, settings.topics.all_names())
