"""``customs-watch console``: the ops console (web triage of alerts) and its users."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from stream.cli.context import settings_of

console_app = typer.Typer(
    help="The ops console: a web page where analysts triage alerts.", no_args_is_help=True
)
user_app = typer.Typer(help="Console users and their roles.", no_args_is_help=True)
console_app.add_typer(user_app, name="user")


@console_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address (env CUSTOMS_WATCH_CONSOLE_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (env CUSTOMS_WATCH_CONSOLE_PORT, 8088).")
    ] = None,
) -> None:
    """Serve the console. Off loopback it needs TLS (CUSTOMS_WATCH_CONSOLE_TLS_CERTFILE and
    _TLS_KEYFILE) or a TLS-terminating proxy (CUSTOMS_WATCH_CONSOLE_TRUSTED_PROXY); alerts
    are read through the worker or sink that owns the embedded ClickHouse directory, else
    from the directory itself."""
    from stream.console.auth import check_exposure
    from stream.console.server import serve as run

    settings = settings_of(ctx)
    changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if changes:
        console = settings.console.model_copy(update=changes)
        settings = settings.model_copy(update={"console": console})
    check_exposure(settings.console)
    c = settings.console
    scheme = "https" if c.tls_certfile else "http"
    typer.echo(f"console on {scheme}://{c.host}:{c.port}/", err=True)
    run(settings)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Letters, digits, '-', '_' or '.'.")],
    role: Annotated[str, typer.Option(help="viewer, analyst or lead.")] = "analyst",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user (or replace one of the same name) with an argon2-hashed password,
    asked for on the terminal unless --password-stdin."""
    from stream.console.auth import add_user
    from stream.console.server import open_store
    from stream.console.service import utc_now

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        add_user(open_store(settings_of(ctx)), username, password, role, utc_now())
    except ValueError as exc:
        typer.echo(f"customs-watch: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"user {username} ({role}) saved")


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """Users and their roles."""
    from stream.console.server import open_store

    for name, role in open_store(settings_of(ctx)).usernames():
        typer.echo(f"{name}\t{role}")
