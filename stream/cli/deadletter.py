"""``customs-watch deadletter …``: the records no stage could process, listed or replayed."""

from __future__ import annotations

from typing import Annotated

import typer

from stream.cli.context import settings_of

deadletter_app = typer.Typer(help="Records no stage could process.", no_args_is_help=True)


@deadletter_app.command("list")
def deadletter_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print every dead letter now on the topic: stage, source, position, reason."""
    from ingest.replay import read_dead_letters

    settings = settings_of(ctx)
    count = 0
    for letter in read_dead_letters(settings):
        count += 1
        if as_json:
            typer.echo(letter.model_dump_json())
        else:
            where = f"{letter.origin}:{letter.position}" if letter.position else letter.origin
            typer.echo(f"{letter.stage}\t{letter.source}\t{where or '-'}\t{letter.reason}")
    if not as_json:
        typer.echo(f"{count} dead letter(s) on {settings.topics.deadletter}", err=True)


@deadletter_app.command("replay")
def deadletter_replay(
    ctx: typer.Context,
    stage: Annotated[
        str | None, typer.Option(help="Only letters of this stage (parse, sink, ...).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only letters of this feed.")] = None,
    reason: Annotated[
        str | None, typer.Option(help="Only letters whose reason contains this text.")
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="Also letters this command replayed before.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
) -> None:
    """Publish dead letters' original bytes again, after a mapping or rule fix.

    Parse failures go back to their raw topic as one-record batches (read with the mapping
    as it is now); later stages' letters go back to the topic they came from. Each letter is
    replayed once: the letters replayed are remembered in the ingest state folder.
    """
    from ingest.replay import LetterChoice, letters_to_replay, replay_letters

    settings = settings_of(ctx)
    chosen = letters_to_replay(settings, LetterChoice(stage, source, reason, again))
    if dry_run or not chosen:
        typer.echo(f"{len(chosen)} dead letter(s) to replay")
        return
    replay_letters(settings, chosen)
    typer.echo(f"replayed {len(chosen)} dead letter(s)")
