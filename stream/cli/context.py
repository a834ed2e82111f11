"""What every ``customs-watch`` subcommand module shares: the settings built by the callback."""

from __future__ import annotations

import typer

from schemas.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
    """The :class:`Settings` the top-level callback put on the context."""
    settings: Settings = ctx.obj
    return settings
