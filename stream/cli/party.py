"""``customs-watch party …``: a party's profile, analysts' merges and splits, and the
evaluation of party resolution on labelled name clusters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    # the spelling pairs are read from the lines' script and form (the alias set has them)
    spelling = (
        f"spelling_pairs={scores.spelling_pairs} spelling_recall={scores.spelling_recall:.3f} "
        if scores.spelling_pairs
        else ""
    )
    typer.echo(
        f"names={scores.names} clusters={scores.clusters} true_pairs={scores.true_pairs} "
        f"predicted_pairs={scores.predicted_pairs} correct_pairs={scores.correct_pairs} "
        f"precision={scores.precision:.3f} recall={scores.recall:.3f} "
        f"{spelling}threshold={rules.parties.threshold:.2f}"
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


def _profile_text(row: dict[str, Any], network: list[dict[str, Any]]) -> str:
    """A profile row of party_profile (and the party's party_network rows) as text."""

    def money(value: Any) -> str:
        return f"{float(value or 0):,.0f} USD"

    out = [
        f"{row['display_name']}  ({row['party_id']})",
        f"  names       {' | '.join(row['names'])}  [{', '.join(row['scripts'])}]",
        f"  written ids {', '.join(row['written_ids'])}",
        f"  identifiers {', '.join(row['identifiers']) or '-'}",
        f"  countries   {', '.join(row['countries']) or '-'}   roles {', '.join(row['roles'])}",
        f"  addresses   {' | '.join(row['addresses']) or '-'}",
        f"  seen        {row['first_seen']} .. {row['last_seen']}: {row['lines']} lines, "
        f"{money(row['value_usd'])}",
        "  per category",
        *(f"    {c:<18} {n:>6} lines {money(v):>18}" for c, n, v in row["by_category"] or []),
        "  per month",
        *(f"    {str(m)[:7]:<18} {n:>6} lines {money(v):>18}" for m, n, v in row["by_month"] or []),
        "  counterparties",
        *(
            f"    {role:<9} {name} ({party}): {n} lines, {money(v)}"
            for party, role, name, n, v in row["counterparties"] or []
        ),
        "  routes (origin > dispatch > destination)",
        *(
            f"    {o or '?'} > {d or '?'} > {t or '?'}: {n} lines"
            for o, d, t, n in row["routes"] or []
        ),
        f"  alert rules {', '.join(row['alert_rules']) or '-'}",
        f"  watchlists  {', '.join(row['watchlist_entities']) or '-'}",
        "  merged into it" + ("" if row["merges"] else ": -"),
        *(f"    {p} by {by} at {at}: {why}" for p, why, by, at in row["merges"] or []),
    ]
    if network:
        out.append("  network (within two hops of a listed party)")
        for n in network:
            hops = f"{n['hops']} hop{'s' if n['hops'] > 1 else ''}"
            if n["listed_party"] == row["party_id"]:
                out.append(f"    {hops}: it {n['via']} {n['party_name']} ({n['party_id']})")
            else:
                out.append(
                    f"    {hops}: {n['listed_name']} (listed: "
                    f"{', '.join(n['listed_entities'])}) {n['via']} this party"
                )
    return "\n".join(out)


@party_app.command("show")
def show(
    ctx: typer.Context,
    party: Annotated[str, typer.Argument(help="Party id (P…) or a name it was written as.")],
    since: Annotated[
        str | None, typer.Option(help="Only lines from this date on (YYYY-MM-DD).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The rows as JSON.")] = False,
) -> None:
    """A party's profile (named query party_profile): its names and scripts, identifiers,
    countries, addresses, first and last seen, lines and value per category and month,
    counterparties, routes, alert rules, watchlist entities and merges; and, from
    party_network, the listed parties it is within two hops of. A party merged into
    another shows as that one. A name matches exactly (any case), else as a part."""
    from datetime import date

    import orjson

    from stream.warehouse.queries import named_query

    settings = settings_of(ctx)
    since_day = date.fromisoformat(since) if since else None

    def rows(name: str) -> list[dict[str, Any]]:
        return named_query(
            settings.clickhouse, name, since_day, token=settings.worker.web_token, party=party
        ).as_dicts()

    found = rows("party_profile")
    if not found:
        typer.echo(f"no party written as or with id {party!r}", err=True)
        raise typer.Exit(1)
    network = rows("party_network")
    if as_json:
        typer.echo(orjson.dumps({"profiles": found, "network": network}, default=str).decode())
        return
    for row in found:
        mine = [n for n in network if row["party_id"] in (n["listed_party"], n["party_id"])]
        typer.echo(_profile_text(row, mine))
