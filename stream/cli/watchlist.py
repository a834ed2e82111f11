"""``customs-watch watchlist …``: load, list, remove and evaluate sanctions lists."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from stream.cli.context import settings_of

watchlist_app = typer.Typer(
    help=(
        "Sanctions and watch lists the worker screens parties against. Lists are validated "
        "and saved in the watchlist folder (CUSTOMS_WATCH_SCREENING_WATCHLIST_DIR); a running "
        "worker picks up a changed folder within CUSTOMS_WATCH_SCREENING_RELOAD_INTERVAL_S."
    ),
    no_args_is_help=True,
)


class ListFormatOption(StrEnum):
    csv = "csv"
    ftm = "ftm"


_settings = settings_of


@watchlist_app.command("load")
def load(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="OpenSanctions targets.simple.csv or FollowTheMoney JSON lines.",
        ),
    ],
    dataset: Annotated[
        str | None,
        typer.Option(help="Name kept on every hit; default: the file's name (or its folder's)."),
    ] = None,
    fmt: Annotated[
        ListFormatOption | None,
        typer.Option("--format", help="Default: from the file name (.csv, .json/.jsonl)."),
    ] = None,
    show_rejects: Annotated[int, typer.Option(help="How many rejected records to print.")] = 20,
) -> None:
    """Validate and index a list, save it for the worker, report counts and rejects.

    Re-loading a dataset replaces it. Exits 1 when nothing could be loaded.
    """
    from stream.screening.index import WatchlistIndex
    from stream.screening.loaders import ListFormat, LoadReport, dataset_name, read_list
    from stream.screening.store import check_dataset_name, save_list

    settings = _settings(ctx)
    name = check_dataset_name(dataset or dataset_name(path))
    report = LoadReport()
    started = time.perf_counter()
    try:
        chosen: ListFormat | None = None if fmt is None else ("csv" if fmt == "csv" else "ftm")
        entries = list(read_list(path, name, chosen, report))
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"customs-watch: {exc}", err=True)
        raise typer.Exit(1) from exc
    from schemas.rule_data import default_rules

    index = WatchlistIndex.build(entries, default_rules().screening)
    if not entries:
        typer.echo(f"customs-watch: {path}: no entries loaded", err=True)
    else:
        target, _ = save_list(entries, name, settings.screening.watchlist_dir)
        typer.echo(f"saved {target}")
    for reject in report.rejects[:show_rejects]:
        typer.echo(f"rejected {path}:{reject.line}: {reject.reason}", err=True)
    if len(report.rejects) > show_rejects:
        typer.echo(f"... and {len(report.rejects) - show_rejects} more rejects", err=True)
    typer.echo(
        f"dataset={name} entities={report.entries} names={index.name_count} "
        f"identifiers={len(index.identifiers)} skipped={report.skipped} "
        f"rejected={len(report.rejects)} seconds={time.perf_counter() - started:.2f}"
    )
    if not entries:
        raise typer.Exit(1)


@watchlist_app.command("list")
def list_datasets(ctx: typer.Context) -> None:
    """The datasets in the watchlist folder, with their entity counts."""
    from stream.screening.store import list_files, read_saved

    folder = _settings(ctx).screening.watchlist_dir
    files = list_files(folder)
    for path in files:
        count = sum(1 for _ in read_saved(path))
        typer.echo(f"{path.stem}\t{count}\t{path}")
    typer.echo(f"{len(files)} dataset(s) in {folder}", err=True)


@watchlist_app.command("remove")
def remove(
    ctx: typer.Context, dataset: Annotated[str, typer.Argument(help="Dataset name.")]
) -> None:
    """Stop screening against a dataset (the worker drops it at its next check)."""
    from stream.screening.store import remove_list

    folder = _settings(ctx).screening.watchlist_dir
    if not remove_list(dataset, folder):
        typer.echo(f"customs-watch: no dataset {dataset!r} in {folder}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {dataset}")


@watchlist_app.command("eval")
def evaluate(
    ctx: typer.Context,
    pairs_path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Labelled pairs (JSONL).")
    ] = Path("tests/data/screening_pairs.jsonl"),
    misses: Annotated[bool, typer.Option(help="Print each wrong answer.")] = True,
) -> None:
    """Precision and recall of the matcher on labelled (query, entry, should_match) pairs."""
    from schemas.rule_data import default_rules
    from stream.screening.matcher import Screener
    from stream.screening.pairs import format_misses, pairs_index, read_pairs, score_pairs

    pairs = read_pairs(pairs_path)
    rules = default_rules().screening
    screener = Screener(pairs_index(pairs, rules), _settings(ctx).screening.threshold)
    scores = score_pairs(pairs, screener)
    if misses and scores.misses:
        typer.echo(format_misses(scores))
    typer.echo(
        f"pairs={len(pairs)} tp={scores.tp} fp={scores.fp} fn={scores.fn} tn={scores.tn} "
        f"precision={scores.precision:.3f} recall={scores.recall:.3f} "
        f"threshold={screener.threshold:.2f}"
    )
