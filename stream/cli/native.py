"""``customs-watch native``: the hot stages compiled with mypyc (``stream/native.py``)."""

from __future__ import annotations

from typing import Annotated

import typer

native_app = typer.Typer(
    help="The stages compiled with mypyc: build them, or see whether they are used.",
    no_args_is_help=True,
)


@native_app.command("build")
def native_build(
    if_needed: Annotated[
        bool, typer.Option("--if-needed", help="Only when not built, or a source changed since.")
    ] = False,
) -> None:
    """Compile the stages into stream/_compiled/ (needs mypy, setuptools and gcc; ~1 min).
    They are used while every source they were built from is unchanged."""
    from stream.native import NATIVE_DIR, ROOT, read_state
    from stream.native_build import build

    if if_needed:
        current = read_state(NATIVE_DIR, ROOT, None)
        if current.on:
            typer.echo(f"up to date: {current.reason}")
            return
    manifest = build()
    compiled = manifest["compiled"]
    assert isinstance(compiled, list)
    typer.echo(f"compiled {len(compiled)} modules for Python {manifest['python']}")


@native_app.command("status")
def native_status() -> None:
    """Say whether this process uses the compiled stages, and why (exit 1 when not)."""
    from stream.native import state

    now = state()
    typer.echo(("on: " if now.on else "off: ") + now.reason)
    if not now.on:
        raise typer.Exit(1)
