"""``customs-watch alerts …``: watch the alerts topic on a terminal or forward it to a webhook."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from stream.cli.context import settings_of

if TYPE_CHECKING:
    from schemas.alert import Alert
    from schemas.settings import Settings
    from stream.alerts.tail import AlertFilter

alerts_app = typer.Typer(
    help="Alerts as they arrive on <prefix>.alerts: a live view, or delivery to a webhook.",
    no_args_is_help=True,
)
log = logging.getLogger("customs_watch.alerts")

RuleOption = Annotated[
    list[str] | None, typer.Option("--rule", help="Only this rule (repeatable).")
]
SeverityOption = Annotated[
    str, typer.Option("--severity", help="Minimum severity: low, medium, high, critical.")
]
CountryOption = Annotated[
    list[str] | None,
    typer.Option("--country", help="Destination or party country, ISO2 (repeatable)."),
]
FromBeginningOption = Annotated[
    bool,
    typer.Option(
        "--from-beginning",
        help="Start at the oldest alert when this group has no position yet (default: new only).",
    ),
]
MaxOption = Annotated[int | None, typer.Option("--max", help="Stop after this many alerts.")]
IdleOption = Annotated[
    float | None, typer.Option("--idle-timeout", help="Stop after this many idle seconds.")
]


def _filter(rules: list[str] | None, severity: str, countries: list[str] | None) -> AlertFilter:
    from stream.alerts.tail import SEVERITY_ORDER, AlertFilter

    if severity not in SEVERITY_ORDER:
        raise typer.BadParameter(f"one of {', '.join(SEVERITY_ORDER)}", param_hint="--severity")
    return AlertFilter(
        rules=frozenset(rules or ()),
        min_severity=severity,
        countries=frozenset(c.upper() for c in countries or ()),
    )


def _on_bad(record: Any, exc: Exception) -> None:
    log.warning(
        "not an alert, skipped",
        extra={"partition": record.partition, "offset": record.offset, "error": str(exc)[:200]},
    )


def _wanted(
    settings: Settings,
    group_id: str,
    wanted: AlertFilter,
    from_beginning: bool,
    idle_timeout: float | None,
    per_poll: int = 500,
) -> Iterator[Alert]:
    """The alerts ``wanted`` lets through, as the group's consumer reads them (at most
    ``per_poll`` from one poll)."""
    from stream.alerts.tail import follow_alerts

    alerts = follow_alerts(
        settings, group_id, from_beginning, idle_timeout, _on_bad, max_poll_records=per_poll
    )
    for _, alert in alerts:
        if alert is not None and wanted.matches(alert):
            yield alert


@alerts_app.command("tail")
def tail(
    ctx: typer.Context,
    rule: RuleOption = None,
    severity: SeverityOption = "low",
    country: CountryOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON alert per line.")] = False,
    group: Annotated[
        str | None,
        typer.Option(
            help="Consumer group (default: a new one per run, so nothing is missed "
            "by another watcher); name one to resume where it stopped."
        ),
    ] = None,
    from_beginning: FromBeginningOption = False,
    max_alerts: MaxOption = None,
    idle_timeout: IdleOption = None,
) -> None:
    """Print alerts as they arrive, one line each (or JSON with --json)."""
    from stream.alerts.tail import format_alert

    settings = settings_of(ctx)
    wanted = _filter(rule, severity, country)
    group_id = group or f"{settings.worker.app_id}-tail-{uuid.uuid4().hex[:8]}"
    alerts = _wanted(settings, group_id, wanted, from_beginning, idle_timeout)
    for shown, alert in enumerate(alerts, start=1):
        typer.echo(alert.model_dump_json() if as_json else format_alert(alert))
        if max_alerts is not None and shown >= max_alerts:
            break


@alerts_app.command("list")
def list_alerts(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per alert.")] = False,
) -> None:
    """Every alert in ClickHouse, one line each, grouped by rule (through the worker when
    it owns the embedded data directory)."""
    from stream.warehouse.queries import named_query

    settings = settings_of(ctx)
    result = named_query(settings.clickhouse, "alerts_by_rule", token=settings.worker.web_token)
    rows = result.as_dicts()
    if as_json:
        for row in rows:
            typer.echo(orjson.dumps(row, default=str).decode())
        return
    current = None
    for row in rows:
        if row["rule"] != current:
            current = row["rule"]
            count = sum(1 for r in rows if r["rule"] == current)
            typer.echo(f"== {current} ({count})")
        typer.echo(
            f"  {str(row['severity']).upper():8} {float(row['score']):.2f} "
            f"lines={row['lines']:<3} {row['party_key'] or '-'} "
            f"-> {row['destination_country'] or '-'} | {row['reason']}"
        )
    typer.echo(f"{len(rows)} alert(s)", err=True)


@alerts_app.command("webhook")
def webhook(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Argument(
            help="http(s) endpoint that receives each alert (default: env "
            "CUSTOMS_WATCH_WEBHOOK_URL; use the env when the URL carries a token, so it stays "
            "out of the process list).",
            show_default=False,
        ),
    ] = None,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the HMAC-SHA256 key of the X-Customs-Watch-Signature header "
            "(or env CUSTOMS_WATCH_WEBHOOK_SECRET; never on the command line).",
        ),
    ] = None,
    rule: RuleOption = None,
    severity: SeverityOption = "low",
    country: CountryOption = None,
    group: Annotated[
        str, typer.Option(help="Consumer group; one per endpoint, so a restart resumes.")
    ] = "customs-watch-webhook",
    attempts: Annotated[int, typer.Option(help="Tries per alert before it counts as failed.")] = 6,
    failures: Annotated[
        Path, typer.Option(help="JSON lines of alerts that could not be delivered.")
    ] = Path("./data/webhook-failures.jsonl"),
    from_beginning: FromBeginningOption = False,
    max_alerts: MaxOption = None,
    idle_timeout: IdleOption = None,
) -> None:
    """POST each alert as JSON, signed, retrying with backoff; failures are recorded.

    The group's offset moves past an alert only once it was delivered or recorded as failed.
    One alert takes at most CUSTOMS_WATCH_WEBHOOK_BUDGET_S seconds (every attempt included).
    """
    from stream.alerts.webhook import RetryPolicy, forward

    settings = settings_of(ctx)
    hook = settings.webhook
    target = url or (hook.url.get_secret_value() if hook.url else "")
    if not target.startswith(("http://", "https://")):
        raise typer.BadParameter(
            "an http:// or https:// URL (argument or CUSTOMS_WATCH_WEBHOOK_URL)", param_hint="URL"
        )
    secret = hook.secret.get_secret_value() if hook.secret else None
    if secret_file is not None:
        secret = secret_file.read_text(encoding="utf-8").strip()
        if not secret:
            raise typer.BadParameter("the file is empty", param_hint="--secret-file")
    policy = RetryPolicy(attempts=attempts, timeout_s=hook.timeout_s, budget_s=hook.budget_s)
    wanted = _filter(rule, severity, country)
    alerts = _wanted(
        settings, group, wanted, from_beginning, idle_timeout, policy.alerts_per_poll()
    )
    counts = forward(alerts, target, secret, policy, failures, max_alerts)
    typer.echo(f"delivered={counts.delivered} failed={counts.failed}")
