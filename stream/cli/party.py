"""``customs-watch party …``: party resolution on labelled name clusters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

party_app = typer.Typer(
    help="Parties: one id per company across scripts and spellings.", no_args_is_help=True
)


@party_app.command("eval")
def evaluate(
    clusters_path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Labelled name clusters (JSONL).")
    ] = Path("tests/data/party_clusters.jsonl"),
    part: Annotated[
        str | None, typer.Option(help="Only the 'dev' or the held-out 'gate' part.")
    ] = None,
    misses: Annotated[int, typer.Option(help="List up to this many wrong pairs of each kind.")] = 0,
) -> None:
    """Pairwise precision and recall of party resolution on labelled name clusters."""
    from schemas.rule_data import default_rules
    from stream.party_eval import evaluate_clusters

    rules = default_rules()
    scores = evaluate_clusters(clusters_path, rules, part)
    for a, b in scores.merged_wrongly[:misses]:
        typer.echo(f"joined, different companies: {a} | {b}")
    for a, b in scores.split_wrongly[:misses]:
        typer.echo(f"apart, one company:          {a} | {b}")
    typer.echo(
        f"names={scores.names} clusters={scores.clusters} true_pairs={scores.true_pairs} "
        f"predicted_pairs={scores.predicted_pairs} correct_pairs={scores.correct_pairs} "
        f"precision={scores.precision:.3f} recall={scores.recall:.3f} "
        f"spelling_pairs={scores.spelling_pairs} spelling_recall={scores.spelling_recall:.3f} "
        f"threshold={rules.parties.threshold:.2f}"
    )
