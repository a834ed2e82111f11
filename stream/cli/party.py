"""``customs-watch party …``: a party's profile, analysts' merges and splits, and the
evaluation of party resolution on labelled name clusters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stream.cli.context import settings_of

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


PARTY_ID = r"^P[0-9a-f]{16}$"


def _party_id(name_or_id: str, country: str | None) -> str:
    """A party id as given, or the id of a written name (with its country, as on lines)."""
    import re

    if re.match(PARTY_ID, name_or_id):
        return name_or_id
    from schemas.rule_data import default_rules
    from stream.stages.enrich import party_book

    country = (country or "").strip().upper() or None
    party = party_book(default_rules(), keep_pending=False).resolver.base_id(
        name_or_id.strip(), country, []
    )
    assert party is not None
    return party


def _publish(ctx: typer.Context, kind: str, source: str, target: str, reason: str, by: str) -> None:
    from ingest.broker.clients import kafka_producer
    from schemas.codecs import PARTY_MERGE
    from schemas.party import PartyMerge

    settings = settings_of(ctx)
    merge = PartyMerge(kind=kind, from_party=source, to_party=target, reason=reason, by=by)
    producer = kafka_producer(settings.kafka, acks="all")
    try:
        future = producer.send(
            settings.topics.party_merges, key=source.encode(), value=PARTY_MERGE.encode(merge)
        )
        producer.flush()
        future.get(timeout=settings.kafka.request_timeout_ms / 1000)
    finally:
        producer.close()
    typer.echo(f"{kind}: {source} -> {target or '-'} ({reason}) published as {merge.event_id}")


def _analyst() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "analyst"


Country = Annotated[
    str | None, typer.Option(help="Country of a party given by name (as on its lines).")
]
Reason = Annotated[str, typer.Option(help="Why: kept with the event, shown in the profile.")]
By = Annotated[str | None, typer.Option(help="Who decided (default: the login name).")]


@party_app.command("merge")
def merge(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Party id (P…) or written name to merge.")],
    target: Annotated[str, typer.Argument(help="Party id or written name it is one with.")],
    reason: Reason,
    country: Country = None,
    by: By = None,
) -> None:
    """Record that SOURCE is the same company as TARGET: a merge event on
    <prefix>.party-merges. Workers resolve through it from their next refresh, and the
    warehouse regroups SOURCE's history under TARGET without rewriting a line."""
    a, b = _party_id(source, country), _party_id(target, country)
    if a == b:
        typer.echo(f"{source} and {target} are one party id already ({a})", err=True)
        raise typer.Exit(2)
    _publish(ctx, "merge", a, b, reason, by or _analyst())


@party_app.command("split")
def split(
    ctx: typer.Context,
    party: Annotated[str, typer.Argument(help="Party id (P…) or written name to split off.")],
    reason: Reason,
    country: Country = None,
    by: By = None,
) -> None:
    """Undo the merge of PARTY (it stands for itself again, with the parties merged into
    it); the resolver never merges it back into that party on its own."""
    _publish(ctx, "split", _party_id(party, country), "", reason, by or _analyst())


@party_app.command("show")
def show(
    ctx: typer.Context,
    party: Annotated[str, typer.Argument(help="Party id (P…) or a name it was written as.")],
    since: Annotated[
        str | None, typer.Option(help="Only lines from this date on (YYYY-MM-DD).")
    ] = None,
) -> None:
    """A party's profile (named query party_profile): its names and scripts, identifiers,
    countries, addresses, first and last seen, lines and value per category and month,
    counterparties, routes, alert rules and watchlist entities; a party merged into
    another shows as that one."""
    from datetime import date

    import orjson

    from stream.warehouse.queries import named_query

    settings = settings_of(ctx)
    since_day = date.fromisoformat(since) if since else None
    rows = named_query(
        settings.clickhouse, "party_profile", since_day, token=settings.worker.web_token
    ).as_dicts()
    wanted = party.casefold()
    found = [
        r
        for r in rows
        if party in (r["party_id"], *r["written_ids"])
        or any(wanted == str(n).casefold() for n in r["names"])
    ] or [r for r in rows if any(wanted in str(n).casefold() for n in r["names"])]
    if not found:
        typer.echo(f"no party written as or with id {party!r}", err=True)
        raise typer.Exit(1)
    for row in found:
        typer.echo(orjson.dumps(row, default=str, option=orjson.OPT_INDENT_2).decode())
