"""Put the console together from the settings and run it under uvicorn."""

from __future__ import annotations

from typing import Any

from schemas.settings import Settings
from stream.console.alerts import AlertSource
from stream.console.app import Console, build_app
from stream.console.auth import LoginLimiter, check_exposure
from stream.console.publisher import Outbox
from stream.console.service import Triage
from stream.console.store import Store
from stream.metrics.definitions import CONSOLE_ACTIONS, CONSOLE_OUTBOX
from stream.metrics.endpoint import MetricsEndpoint, start_endpoint
from stream.warehouse.client import QueryResult
from stream.warehouse.queries import named_query


def open_store(settings: Settings) -> Store:
    store = Store(settings.console.db_url.get_secret_value())
    store.migrate()
    return store


def make_console(settings: Settings, store: Store, outbox: Outbox | None) -> Console:
    def fetch(name: str) -> QueryResult:
        return named_query(settings.clickhouse, name, token=settings.worker.web_token)

    wake = outbox.poke if outbox is not None else (lambda: None)

    def poke() -> None:  # once per action recorded
        CONSOLE_ACTIONS.inc()
        wake()

    console = settings.console
    return Console(
        store=store,
        triage=Triage(store),
        alerts=AlertSource(fetch, console.refresh_s),
        limiter=LoginLimiter(console.login_attempts, console.login_window_s),
        session_hours=console.session_hours,
        poke=poke,
    )


def serve(settings: Settings) -> None:
    """Refuse a clear-text listener off loopback, then serve until SIGINT/SIGTERM."""
    import uvicorn

    from ingest.broker.clients import kafka_producer

    check_exposure(settings.console)
    store = open_store(settings)
    outbox = None
    if settings.console.publish:
        outbox = Outbox(
            store,
            settings.topics.alert_actions,
            lambda: kafka_producer(settings.kafka, acks="all", retries=5),
        )
        outbox.start()
    app = build_app(make_console(settings, store, outbox))
    endpoint = _metrics(settings, store)
    c = settings.console
    options: dict[str, Any] = {"host": c.host, "port": c.port, "log_level": "warning"}
    if c.tls_certfile is not None and c.tls_keyfile is not None:
        options.update(ssl_certfile=str(c.tls_certfile), ssl_keyfile=str(c.tls_keyfile))
    if c.trusted_proxy:
        options.update(proxy_headers=True, forwarded_allow_ips=c.trusted_proxy)
    else:
        options.update(proxy_headers=False)
    try:
        uvicorn.run(app, **options)
    finally:
        if endpoint is not None:
            endpoint.stop()
        if outbox is not None:
            outbox.stop()


def _metrics(settings: Settings, store: Store) -> MetricsEndpoint | None:
    """/metrics, /healthz, /readyz (metrics on only): ready while the triage store answers;
    the outbox's backlog is counted at each scrape."""
    CONSOLE_OUTBOX.set_function(lambda: len(store.unpublished(limit=100_000)))

    def why_not_ready() -> str | None:
        store.unpublished(limit=1)  # raises while the store is unreachable
        return None

    return start_endpoint(settings, "console", why_not_ready)
