"""``customs-watch classify``, ``eval`` and ``generate``: the stages offline, their quality on a
labelled set, and synthetic feeds to try them on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stream.cli.context import settings_of


def classify(
    ctx: typer.Context,
    input_path: Annotated[
        Path, typer.Option("--input", exists=True, dir_okay=False, help="JSONL of canonical lines.")
    ],
    output_path: Annotated[Path, typer.Option("--output", help="JSONL of enriched lines.")],
    watchlists: Annotated[
        list[Path] | None,
        typer.Option(
            "--watchlist",
            exists=True,
            dir_okay=False,
            help="A list to screen parties against (targets.simple.csv or FtM JSON lines); "
            "repeatable. Default: the lists saved in the watchlist folder.",
        ),
    ] = None,
) -> None:
    """Classify a JSONL file offline with the same stages as the stream (no Kafka, no ClickHouse).

    Each output line is the enriched line plus an ``alerts`` list; invalid input lines go to
    ``<output>.rejects.jsonl`` with the reason. A rate table set in
    CUSTOMS_WATCH_RULES_FX_RATES fills ``value_usd``. Parties are screened against the
    --watchlist files, or else the saved watchlist folder.
    """
    from stream.offline import classify_file, offline_enricher
    from stream.screening.loaders import LoadReport

    report = LoadReport()
    enricher = offline_enricher(settings_of(ctx), watchlists, report)
    for reject in report.rejects:
        typer.echo(f"watchlist line {reject.line} rejected: {reject.reason}", err=True)
    counts = classify_file(enricher, input_path, output_path)
    typer.echo(f"{counts.as_text()} output={output_path}")


def evaluate_labelled(
    labelled: Annotated[
        list[Path] | None,
        typer.Argument(exists=True, dir_okay=False, help="Labelled sets (JSONL), one or more."),
    ] = None,
    misses: Annotated[bool, typer.Option("--misses", help="Also list every miss.")] = False,
) -> None:
    """Print per-category precision and recall of the classifier on each labelled set, and
    the share of its lines read without a usable code (missing, unreadable, heading or
    chapter only)."""
    from rich.console import Console
    from rich.table import Table

    from schemas.rule_data import default_rules
    from stream.evaluate import evaluate, load_labelled

    console = Console(width=120)
    for path in labelled or [Path("tests/data/labelled_lines.jsonl")]:
        result = evaluate(default_rules(), load_labelled(path))
        table = Table(title=f"{path} ({result.lines} lines)")
        for column in ("category", "TP", "FP", "FN", "precision", "recall"):
            table.add_column(column, justify="left" if column == "category" else "right")
        for category, score in result.scores.items():
            table.add_row(
                category,
                str(score.true_positive),
                str(score.false_positive),
                str(score.false_negative),
                f"{score.precision:.3f}",
                f"{score.recall:.3f}",
            )
        console.print(table)
        rate = result.without_code / result.lines if result.lines else 0.0
        console.print(
            f"classified without a usable code: {result.without_code} of {result.lines} "
            f"lines ({rate:.1%})"
        )
        if misses:
            for miss in result.misses:
                console.print(
                    f"{miss.id} [{miss.hs_code}] expected={miss.expected} "
                    f"predicted={miss.predicted}: {miss.description}",
                    markup=False,
                )


def generate(
    output_path: Annotated[Path, typer.Option("--output", help="Where to write the JSONL.")],
    lines: Annotated[int, typer.Option(help="How many lines.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 7,
    seeds: Annotated[
        bool,
        typer.Option(
            "--seeds",
            help="Instead: the scenario modelled on the seed cases (vests to a new importer, "
            "drones via Hong Kong, ceramics rising, chips via Türkiye/UAE, a listed importer, "
            "a surging importer), invented companies, about 40 lines.",
        ),
    ] = False,
) -> None:
    """Write a synthetic feed of canonical lines (invented companies) for trials and benchmarks."""
    import orjson

    from ingest.seeds import seed_lines
    from ingest.synthetic import synthetic_jsonl

    if seeds:
        records = seed_lines()
        output_path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        typer.echo(f"wrote {len(records)} seed-scenario lines to {output_path}")
        return
    output_path.write_bytes(synthetic_jsonl(lines, seed))
    typer.echo(f"wrote {lines} lines to {output_path}")
