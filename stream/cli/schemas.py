"""``customs-watch schemas export``: the topics' JSON Schemas from the pydantic models."""

from __future__ import annotations

from typing import Annotated

import typer

schemas_app = typer.Typer(help="JSON Schemas of the topics.", no_args_is_help=True)


@schemas_app.command("export")
def schemas_export(
    check: Annotated[
        bool, typer.Option("--check", help="Only report drift; exit 1 if any.")
    ] = False,
) -> None:
    """Write the topics' JSON Schemas to schemas/jsonschema/ from the pydantic models."""
    from schemas.topic_schemas import drifted, export

    if check:
        stale = drifted()
        if stale:
            typer.echo("out of date: " + ", ".join(stale), err=True)
            raise typer.Exit(1)
        typer.echo("up to date")
        return
    for path in export():
        typer.echo(str(path))
