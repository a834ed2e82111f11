"""``customs-watch``: the one command line. Each subcommand imports what it needs lazily.

Settings come from ``CUSTOMS_WATCH_*`` environment variables; the global flags below
override them for one call.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from schemas.settings import Settings
from stream.cli.alerts import alerts_app
from stream.cli.context import settings_of
from stream.cli.ingest import ingest_app
from stream.cli.watchlist import watchlist_app

app = typer.Typer(
    name="customs-watch",
    help="Ingest customs declaration feeds, classify dual-use and battlefield goods, alert.",
    no_args_is_help=True,
    add_completion=False,
)
topics_app = typer.Typer(
    help="Create, list and delete the project's Kafka topics.", no_args_is_help=True
)
db_app = typer.Typer(help="ClickHouse schema.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of the topics.", no_args_is_help=True)
deadletter_app = typer.Typer(help="Records no stage could process.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(ingest_app, name="ingest")
app.add_typer(db_app, name="db")
app.add_typer(schemas_app, name="schemas")
app.add_typer(deadletter_app, name="deadletter")
app.add_typer(watchlist_app, name="watchlist")
app.add_typer(alerts_app, name="alerts")

log = logging.getLogger("customs_watch.cli")


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


_settings = settings_of


@app.callback()
def main_options(
    ctx: typer.Context,
    bootstrap: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers (env CUSTOMS_WATCH_KAFKA_BOOTSTRAP)."),
    ] = None,
    clickhouse_dsn: Annotated[
        str | None,
        typer.Option(
            help="chdb://<dir> or http://user:pass@host:8123/db (env CUSTOMS_WATCH_CLICKHOUSE_DSN)."
        ),
    ] = None,
    topic_prefix: Annotated[
        str | None,
        typer.Option(help="First part of every topic name (env CUSTOMS_WATCH_TOPICS_PREFIX)."),
    ] = None,
    sources: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated feeds the worker reads (env CUSTOMS_WATCH_TOPICS_SOURCES)."
        ),
    ] = None,
    watchlist_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder of saved watchlists (env CUSTOMS_WATCH_SCREENING_WATCHLIST_DIR)."
        ),
    ] = None,
    log_format: Annotated[
        str | None, typer.Option("--log", help="Log format: kv or json (env CUSTOMS_WATCH_LOG).")
    ] = None,
) -> None:
    """Global options; every subcommand has --help."""
    from stream import logs

    overrides: dict[str, Any] = {}
    if bootstrap:
        overrides.setdefault("kafka", {})["bootstrap"] = bootstrap
    if clickhouse_dsn:
        overrides.setdefault("clickhouse", {})["dsn"] = clickhouse_dsn
    if topic_prefix:
        overrides.setdefault("topics", {})["prefix"] = topic_prefix
    if sources:
        overrides.setdefault("topics", {})["sources"] = sources
    if watchlist_dir:
        overrides.setdefault("screening", {})["watchlist_dir"] = watchlist_dir
    if log_format:
        overrides["log"] = log_format
    settings = Settings(**overrides)
    logs.configure(settings.log)
    ctx.obj = settings


# --- topics -----------------------------------------------------------------------------


@topics_app.command("create")
def topics_create(ctx: typer.Context) -> None:
    """Create the project's topics: one raw topic per source, the stages' topics, alerts and
    dead letters (idempotent)."""
    from ingest.broker.admin import create_topics

    for name, outcome in create_topics(_settings(ctx)).items():
        typer.echo(f"{name}\t{outcome}")


@topics_app.command("list")
def topics_list(ctx: typer.Context) -> None:
    """List the topics on the broker, marking the project's own."""
    from ingest.broker.admin import existing_topics

    settings = _settings(ctx)
    ours = set(settings.topics.all_names())
    for name in sorted(existing_topics(settings)):
        typer.echo(f"{name}\t{'project' if name in ours else 'other'}")


@topics_app.command("delete")
def topics_delete(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: topics and data are lost.")] = False,
) -> None:
    """Delete the project's topics (all their messages are lost)."""
    from ingest.broker.admin import delete_topics

    if not yes:
        typer.echo("refusing without --yes: deleting topics loses their messages", err=True)
        raise typer.Exit(2)
    settings = _settings(ctx)
    delete_topics(settings, settings.topics.all_names())


# --- ingest ------------------------------------------------------------------------------


# --- worker ------------------------------------------------------------------------------


@app.command()
def worker(
    ctx: typer.Context,
    web_port: Annotated[
        int | None,
        typer.Option(help="Port of the worker's web server (env CUSTOMS_WATCH_WORKER_WEB_PORT)."),
    ] = None,
    loglevel: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    sink: Annotated[
        bool | None,
        typer.Option(
            "--sink/--no-sink",
            help="Run the ClickHouse sink in this worker (env CUSTOMS_WATCH_SINK_ENABLED, "
            "default on). On the embedded engine only one worker may; start more with "
            "--no-sink.",
        ),
    ] = None,
) -> None:
    """Run the stream worker: parse → normalise → classify → screen → alert → topics, and
    the sink that batches enriched lines, alerts and dead letters into ClickHouse."""
    from stream.worker.process import run_worker

    settings = _settings(ctx)
    if web_port is not None:
        settings = settings.model_copy(
            update={"worker": settings.worker.model_copy(update={"web_port": web_port})}
        )
    if sink is not None:
        settings = settings.model_copy(
            update={"sink": settings.sink.model_copy(update={"enabled": sink})}
        )
    run_worker(settings, loglevel)


@app.command()
def sink(
    ctx: typer.Context,
    web_port: Annotated[
        int | None,
        typer.Option(help="Port for the named queries (env CUSTOMS_WATCH_WORKER_WEB_PORT)."),
    ] = None,
) -> None:
    """Run only the ClickHouse sink (enriched lines, alert versions, dead letters → ClickHouse),
    for use with `worker --no-sink`: on a second core, or scaled apart from the stream."""
    from stream.sink.process import run_sink

    settings = _settings(ctx)
    if web_port is not None:
        settings = settings.model_copy(
            update={"worker": settings.worker.model_copy(update={"web_port": web_port})}
        )
    run_sink(settings)


@app.command()
def wait(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option(help="Seconds before giving up.")] = 120.0,
) -> None:
    """Wait until the workers' consumer group, then the sink's, processed everything on their
    topics (the sink's rows are then in ClickHouse)."""
    import time

    from ingest.broker.admin import wait_until_drained
    from stream.sink.service import sink_group
    from stream.sink.tables import sink_tables

    settings = _settings(ctx)
    deadline = time.monotonic() + timeout
    lag = wait_until_drained(
        settings, settings.worker.app_id, settings.topics.worker_inputs(), timeout
    )
    if settings.sink.enabled:
        left = max(1.0, deadline - time.monotonic())
        sink_topics = list(sink_tables(settings.topics))
        lag |= wait_until_drained(settings, sink_group(settings), sink_topics, left)
    typer.echo("drained: " + ", ".join(f"{t}={n}" for t, n in sorted(lag.items())))


# --- ClickHouse --------------------------------------------------------------------------


@db_app.command("migrate")
def db_migrate(ctx: typer.Context) -> None:
    """Apply the DDL files in schemas/clickhouse/ not applied yet (idempotent), then set the
    tables' TTLs from the settings (CUSTOMS_WATCH_CLICKHOUSE_*_TTL_DAYS)."""
    from stream.warehouse.migrations import migrate_database

    applied, ttls = migrate_database(_settings(ctx).clickhouse)
    typer.echo("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    typer.echo("ttl: " + (", ".join(ttls) if ttls else "none"))


@app.command()
def query(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A file stem in schemas/clickhouse/queries/.")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, csv or json.")
    ] = OutputFormat.table,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only declarations from this date on (YYYY-MM-DD), where the query takes a date."
        ),
    ] = None,
) -> None:
    """Run a named query; asks the worker (or sink process) that owns the embedded data
    directory when one runs.

    The queries and what each answers: docs/queries.md."""
    import orjson

    from stream.warehouse.queries import named_queries, named_query

    if name not in named_queries():
        typer.echo(f"no query named {name!r}; known: {', '.join(named_queries())}", err=True)
        raise typer.Exit(2)
    from datetime import date

    try:
        since_day = date.fromisoformat(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter("a date, YYYY-MM-DD", param_hint="--since") from exc
    result = named_query(_settings(ctx).clickhouse, name, since_day)
    if output is OutputFormat.json:
        sys.stdout.write(orjson.dumps(result.as_dicts(), default=str).decode() + "\n")
        return
    if output is OutputFormat.csv:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(["" if v is None else v for v in row] for row in result.rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=name)
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(width=160).print(table)


# --- offline -----------------------------------------------------------------------------


@app.command()
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
    import orjson
    from pydantic import ValidationError

    from schemas.codecs import describe_validation_error
    from schemas.declaration import Declaration
    from schemas.rule_data import default_rules, fx_table
    from stream.screening.index import WatchlistIndex
    from stream.screening.loaders import LoadReport, read_list
    from stream.screening.matcher import Screener
    from stream.screening.store import load_folder
    from stream.stages.enrich import Enricher

    settings = _settings(ctx)
    rules = default_rules()
    if watchlists:
        report = LoadReport()
        entries = [e for path in watchlists for e in read_list(path, report=report)]
        for reject in report.rejects:
            typer.echo(f"watchlist line {reject.line} rejected: {reject.reason}", err=True)
        index = WatchlistIndex.build(entries, rules.screening)
    else:
        index = load_folder(settings.screening.watchlist_dir, rules.screening)
    screener = Screener(index, settings.screening.threshold) if len(index) else None
    enricher = Enricher(rules, fx_table(settings.rules.fx_rates), lambda: screener)
    rejects_path = output_path.with_name(output_path.name + ".rejects.jsonl")
    counts = {"lines": 0, "rejected": 0, "alerts": 0, "screened_hits": 0}
    with (
        input_path.open("rb") as src,
        output_path.open("wb") as out,
        rejects_path.open("wb") as rejects,
    ):
        for position, raw in enumerate(src, start=1):
            if not raw.strip():
                continue
            try:
                line = Declaration.model_validate_json(raw)
            except ValidationError as exc:
                counts["rejected"] += 1
                rejects.write(
                    orjson.dumps(
                        {
                            "position": position,
                            "reason": describe_validation_error(exc),
                            "line": raw.decode("utf-8", "replace"),
                        }
                    )
                    + b"\n"
                )
                continue
            enriched, alerts = enricher.line(line)
            record = enriched.model_dump(mode="json")
            record["alerts"] = [a.model_dump(mode="json") for a in alerts]
            out.write(orjson.dumps(record) + b"\n")
            counts["lines"] += 1
            counts["alerts"] += len(alerts)
            counts["screened_hits"] += len(enriched.screening_hits)
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()) + f" output={output_path}")


@app.command("eval")
def evaluate_labelled(
    labelled: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Labelled lines (JSONL).")
    ] = Path("tests/data/labelled_lines.jsonl"),
    misses: Annotated[bool, typer.Option("--misses", help="Also list every miss.")] = False,
) -> None:
    """Print per-category precision and recall of the classifier on a labelled set."""
    from rich.console import Console
    from rich.table import Table

    from schemas.rule_data import default_rules
    from stream.evaluate import evaluate, load_labelled

    result = evaluate(default_rules(), load_labelled(labelled))
    table = Table(title=f"{labelled} ({result.lines} lines)")
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
    console = Console(width=120)
    console.print(table)
    if misses:
        for miss in result.misses:
            console.print(
                f"{miss.id} [{miss.hs_code}] expected={miss.expected} "
                f"predicted={miss.predicted}: {miss.description}",
                markup=False,
            )


@app.command()
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


# --- dead letters ------------------------------------------------------------------------


@deadletter_app.command("list")
def deadletter_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print every dead letter now on the topic: stage, source, position, reason."""
    from ingest.broker.reader import read_to_end
    from schemas.dead_letter import DeadLetter

    settings = _settings(ctx)
    count = 0
    for record in read_to_end(settings, settings.topics.deadletter):
        letter = DeadLetter.model_validate_json(record.value)
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
    from ingest.broker.reader import read_to_end
    from ingest.publisher import make_producer
    from ingest.replay import replay_of
    from schemas.dead_letter import DeadLetter

    settings = _settings(ctx)
    # One letter id per line, appended after the broker acknowledged its replay.
    memory = settings.ingest.state_dir / f"{settings.topics.deadletter}.replayed"
    replayed = set(memory.read_text().split()) if memory.exists() else set()
    chosen: list[DeadLetter] = []
    for record in read_to_end(settings, settings.topics.deadletter):
        letter = DeadLetter.model_validate_json(record.value)
        if (stage and letter.stage != stage) or (source and letter.source != source):
            continue
        if reason and reason not in letter.reason:
            continue
        if letter.identity() in replayed and not again:
            continue
        chosen.append(letter)
    if dry_run or not chosen:
        typer.echo(f"{len(chosen)} dead letter(s) to replay")
        return
    producer = make_producer(settings.kafka, settings.topics.max_message_bytes)
    memory.parent.mkdir(parents=True, exist_ok=True)
    try:
        with memory.open("a", encoding="ascii") as log_file:
            for letter in chosen:
                message = replay_of(letter, settings.topics)
                producer.send(message.topic, key=message.key, value=message.value).get(timeout=60)
                log_file.write(letter.identity() + "\n")
                log_file.flush()
    finally:
        producer.close(timeout=10)
    typer.echo(f"replayed {len(chosen)} dead letter(s)")


# --- schemas -----------------------------------------------------------------------------


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


def main() -> None:
    from schemas.errors import CustomsWatchError

    try:
        app()
    except CustomsWatchError as exc:
        typer.echo(f"customs-watch: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
