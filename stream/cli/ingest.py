"""``customs-watch ingest …``: publish a feed to ``<prefix>.raw.<source>``, exactly once.

Every connector resumes where the raw topic says it stopped (see ``ingest/run.py``): run
the same command again after a crash and only what is missing is published. Progress is a
bar with rows/s on a terminal and periodic log lines otherwise; a summary ends each run. A
file is read within the ``ingest.max_*`` limits and refused (exit 1) when past one or when
its reader fails; a second connector on a source already being published is refused (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stream.cli.context import settings_of

if TYPE_CHECKING:
    from ingest.connectors.base import OriginFeed
    from ingest.connectors.tabular import TabularFormat
    from schemas.mapping import Mapping

ingest_app = typer.Typer(
    help="Publish a feed to its raw topic (idempotent producer, acks=all, resumable).",
    no_args_is_help=True,
)

SourceOption = Annotated[str, typer.Option(help="Feed name: publishes to <prefix>.raw.<source>.")]


def _topic_or_exit(ctx: typer.Context, source: str) -> str:
    from ingest.broker.admin import existing_topics

    settings = settings_of(ctx)
    topic = settings.topics.raw(source)
    if topic not in existing_topics(settings):
        typer.echo(
            f"topic {topic} does not exist: add {source!r} to CUSTOMS_WATCH_TOPICS_SOURCES "
            "and run `customs-watch topics create`",
            err=True,
        )
        raise typer.Exit(2)
    return topic


@contextmanager
def refusals() -> Iterator[None]:
    """A refused file exits 1, a source another connector publishes exits 3: a message, no
    traceback."""
    from ingest.errors import FileRejected, FolderRefused, SourceBusy

    try:
        yield
    except (FileRejected, FolderRefused) as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    except SourceBusy as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(3) from exc


def read_file(ctx: typer.Context, file: Path, build: Callable[[], OriginFeed]) -> OriginFeed:
    """The file's feed through the one reading guard (see ingest/connectors/files.py)."""
    from ingest.connectors.files import read_guarded

    with refusals():
        return read_guarded(file, build)


def publish_feed(ctx: typer.Context, source: str, feed: OriginFeed, label: str) -> tuple[int, str]:
    """Publish one origin; returns the records it read and the summary line."""
    from ingest.run import SourcePublisher

    topic = _topic_or_exit(ctx, source)
    with refusals(), SourcePublisher(settings_of(ctx), topic) as target:
        summary = target.publish(feed, label)
    return summary.records + summary.skipped + summary.rejected, (
        f"published={summary.records} skipped_already_published={summary.skipped} "
        f"dead_lettered={summary.rejected} batches={summary.batches} topic={topic} "
        f"seconds={summary.seconds:.2f} rows_per_s={summary.records_per_second:,.0f}"
    )


@ingest_app.command("jsonl")
def ingest_jsonl(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="One canonical line per JSON line."
        ),
    ],
    source: SourceOption = "jsonl",
) -> None:
    """Publish a JSONL file of canonical lines; each line is parsed in the stream."""
    from ingest.connectors.jsonl import JsonlConnector

    connector = JsonlConnector(file, source, settings_of(ctx).ingest)
    feed = read_file(ctx, file, connector.feed)
    read, line = publish_feed(ctx, source, feed, f"ingest {file.name}")
    blank = connector.blank_lines
    typer.echo(f"read={read + blank} {line} blank_skipped={blank}")


def _mapping(ctx: typer.Context, name: str) -> Mapping:
    from ingest.formats.tabular.catalog import MappingCatalog

    catalog = MappingCatalog(settings_of(ctx).ingest.mappings_dir)
    try:
        return catalog(name)
    except KeyError as exc:
        raise typer.BadParameter(str(exc).strip("'\""), param_hint="--mapping") from exc


MappingOption = Annotated[
    str,
    typer.Option(
        help="Mapping by name: ru_import_declarations, cn_export_records, us_bill_of_lading, "
        "or one of yours in CUSTOMS_WATCH_INGEST_MAPPINGS_DIR."
    ),
]


def _tabular(
    ctx: typer.Context,
    file: Path,
    source: str,
    mapping: str,
    fmt: TabularFormat,
    encoding: str | None = None,
    sheet: str | None = None,
) -> None:
    from ingest.connectors.tabular import TabularConnector

    found = _mapping(ctx, mapping)
    limits = settings_of(ctx).ingest
    opened: list[TabularConnector] = []

    def build() -> OriginFeed:
        opened.append(TabularConnector(file, source, found, fmt, encoding, sheet, limits))
        return opened[0].feed()

    feed = read_file(ctx, file, build)
    connector = opened[0]
    read, line = publish_feed(ctx, source, feed, f"ingest {file.name}")
    typer.echo(f"read={read} {line} encoding={connector.encoding}")


@ingest_app.command("csv")
def ingest_csv(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or TSV file.")
    ],
    mapping: MappingOption,
    encoding: Annotated[
        str | None,
        typer.Option(help="The file's encoding (e.g. cp1251, gb18030); default: detected."),
    ] = None,
    source: SourceOption = "csv",
) -> None:
    """Publish a CSV/TSV export row by row (rows mapped to canonical lines in the stream)."""
    _tabular(ctx, file, source, mapping, "csv", encoding=encoding)


@ingest_app.command("xlsx")
def ingest_xlsx(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=".xlsx workbook.")
    ],
    mapping: MappingOption,
    sheet: Annotated[str | None, typer.Option(help="Sheet name; default: the first.")] = None,
    source: SourceOption = "xlsx",
) -> None:
    """Publish an .xlsx workbook's rows (read in openpyxl's read-only mode)."""
    _tabular(ctx, file, source, mapping, "xlsx", sheet=sheet)


@ingest_app.command("watch")
def ingest_watch(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="The folder files are dropped in.")
    ],
    mapping: Annotated[
        str | None,
        typer.Option(help="Mapping for tabular files; default: the only one fitting the header."),
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between two looks.")] = 5.0,
    once: Annotated[
        bool, typer.Option("--once", help="Handle the files there now, then exit.")
    ] = False,
    source: SourceOption = "watch",
) -> None:
    """Publish each file dropped in FOLDER (.jsonl, .csv/.tsv/.txt, .xlsx, .edi), then move it to
    FOLDER/done/, or to FOLDER/failed/ with a reason file. Stop with SIGTERM or Ctrl-C; a
    file left halfway is finished without duplicates at the next start."""
    from ingest.publisher import PublishSummary
    from ingest.service import stop_on_signals, watch_folder

    topic = _topic_or_exit(ctx, source)

    def published(feed: OriginFeed, summary: PublishSummary) -> None:
        typer.echo(
            f"{Path(feed.origin).name}: published={summary.records} "
            f"skipped_already_published={summary.skipped} batches={summary.batches}"
        )

    def refused(path: Path, reason: str) -> None:
        typer.echo(f"{path.name}: refused: {reason}", err=True)

    with refusals():
        summary = watch_folder(
            settings_of(ctx),
            source,
            folder,
            mapping,
            interval,
            once,
            stop_on_signals(),
            on_published=published,
            on_refused=refused,
        )
    typer.echo(f"done={len(summary.done)} failed={len(summary.failed)} topic={topic}")


@ingest_app.command("http")
def ingest_http(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="JSON endpoint answering records after a cursor.")],
    cursor_param: Annotated[
        str, typer.Option(help="Query parameter that carries the cursor.")
    ] = "since_id",
    cursor_field: Annotated[
        str, typer.Option(help="Record field whose value is the cursor after that record.")
    ] = "id",
    header: Annotated[
        list[str] | None,
        typer.Option(
            help="Request header 'Name: value' (repeatable); credentials (authorization, "
            "cookie, API keys, tokens) only through --header-file."
        ),
    ] = None,
    header_file: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            help="File of request headers, one 'Name: value' a line: the place for "
            "credentials, which must not stand in the process list.",
        ),
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between two rounds.")] = 60.0,
    once: Annotated[
        bool, typer.Option("--once", help="One round (until an empty page), then exit.")
    ] = False,
    source: SourceOption = "http",
) -> None:
    """Poll a JSON endpoint for canonical lines with a since-id or since-timestamp cursor;
    retries with backoff; resumes from the cursor of the last batch on the raw topic."""
    from ingest.connectors.http_poll import PollSettings
    from ingest.errors import SourceUnavailable
    from ingest.http_safety import credential_headers, parse_headers
    from ingest.publisher import PublishSummary
    from ingest.service import poll_endpoint, stop_on_signals

    topic = _topic_or_exit(ctx, source)
    try:
        given = parse_headers(header or [])
        secret = credential_headers(given)
        if secret:
            raise ValueError(f"{', '.join(secret)}: credentials go in --header-file, not argv")
        if header_file is not None:
            given.update(parse_headers(header_file.read_text(encoding="utf-8").splitlines()))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--header/--header-file") from exc
    ingest = settings_of(ctx).ingest
    poll = PollSettings(
        url,
        cursor_param,
        cursor_field,
        given,
        max_answer_bytes=ingest.http_max_answer_bytes,
        max_answer_s=ingest.http_answer_timeout_s,
    )

    def round_done(summary: PublishSummary, cursor_from: str | None) -> None:
        if summary.records:
            typer.echo(f"published={summary.records} cursor_from={cursor_from or '-'}")

    try:
        with refusals():
            totals = poll_endpoint(
                settings_of(ctx), source, poll, interval, once, stop_on_signals(), round_done
            )
    except SourceUnavailable as exc:
        typer.echo(f"stopped: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"published={totals.published} requests={totals.requests} retries={totals.retries} "
        f"topic={topic}"
    )


@ingest_app.command("cusdec")
def ingest_cusdec(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="EDIFACT interchange."),
    ],
    source: SourceOption = "cusdec",
) -> None:
    """Publish a UN/EDIFACT CUSDEC interchange, one raw record per message (UNH…UNT); the
    stream reads each message's goods items into canonical lines."""
    from ingest.connectors.cusdec import CusdecConnector

    opened: list[CusdecConnector] = []

    def build() -> OriginFeed:
        opened.append(CusdecConnector(file, source, settings_of(ctx).ingest))
        return opened[0].feed()

    feed = read_file(ctx, file, build)
    connector = opened[0]
    for problem in connector.problems:
        typer.echo(f"warning: {file.name}: {problem}", err=True)
    read, line = publish_feed(ctx, source, feed, f"ingest {file.name}")
    typer.echo(f"read={read} {line} charset={connector.interchange.charset}")
