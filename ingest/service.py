"""The long-running connectors: a watched folder and a polled endpoint, each publishing to
its raw topic exactly once until asked to stop.

``customs-watch ingest watch`` and ``ingest http`` only parse their arguments and call
:func:`watch_folder` or :func:`poll_endpoint`; what a run prints is left to the caller's
``on_*`` functions. Both stop between two files or rounds when ``stop()`` says so, which
:func:`stop_on_signals` ties to SIGTERM and SIGINT.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.broker.deadletters import publish_dead_letters
from ingest.connectors.base import OriginFeed
from ingest.connectors.files import head_of
from ingest.connectors.http_poll import HttpPoller, PollSettings, wait_between_rounds
from ingest.connectors.watch import FolderWatcher, WatchSummary
from ingest.formats.tabular.catalog import MappingCatalog
from ingest.metrics import CONNECTOR_FILES, CONNECTOR_ROUNDS, MetricsEndpoint, observe_published
from ingest.publisher import PublishSummary, make_producer
from ingest.run import SourcePublisher
from schemas.dead_letter import DeadLetter
from schemas.settings import Settings

REFUSED_HEAD_BYTES = 64 * 1024
"""How much of a refused file its dead letter carries."""

Stop = Callable[[], bool]


def metrics_endpoint(settings: Settings, once: bool) -> MetricsEndpoint | None:
    """The connector's /metrics, /healthz, /readyz (CUSTOMS_WATCH_METRICS_*; not for a
    one-shot run). Ready once its publisher is connected: it is made before the loop."""
    m = settings.metrics
    if once or not m.enabled:
        return None
    return MetricsEndpoint(m.host, m.connector_port, ready=lambda: None).start()


def stop_on_signals() -> Stop:
    """Let SIGTERM and SIGINT end a loop after the file or round in flight; returns the
    function the loop asks."""
    stopping: list[int] = []

    def note(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, note)
    signal.signal(signal.SIGINT, note)
    return lambda: bool(stopping)


def refused_letter(source: str, path: Path, reason: str) -> DeadLetter:
    """The dead letter of a file no connector could read: its first bytes (none for a link
    or a special file, which are not opened) and why."""
    head = head_of(path, REFUSED_HEAD_BYTES)
    return DeadLetter(
        source=source, origin=str(path), position=0, stage="ingest", reason=reason, payload=head
    )


def watch_folder(
    settings: Settings,
    source: str,
    folder: Path,
    mapping: str | None,
    interval_s: float,
    once: bool,
    stop: Stop,
    on_published: Callable[[OriginFeed, PublishSummary], None] = lambda feed, summary: None,
    on_refused: Callable[[Path, str], None] = lambda path, reason: None,
) -> WatchSummary:
    """Publish each file dropped in ``folder`` to the source's raw topic (see
    :class:`FolderWatcher`); a refused file also becomes a dead letter."""
    target = SourcePublisher(settings, settings.topics.raw(source))
    letters = make_producer(settings.kafka, settings.topics.max_message_bytes)
    endpoint = metrics_endpoint(settings, once)

    def publish(feed: OriginFeed) -> None:
        summary = target.publish(feed, f"ingest {Path(feed.origin).name}")
        observe_published(source, summary.records, summary.payload_bytes)
        CONNECTOR_FILES.labels(source, "published").inc()
        on_published(feed, summary)

    def reject(path: Path, reason: str) -> None:
        letter = refused_letter(source, path, reason)
        publish_dead_letters(letters, settings.topics.deadletter, [letter])
        CONNECTOR_FILES.labels(source, "refused").inc()
        on_refused(path, reason)

    catalog = MappingCatalog(settings.ingest.mappings_dir)
    try:
        watcher = FolderWatcher(
            folder, publish, reject, source, catalog, mapping, limits=settings.ingest
        )
        return watcher.run(interval_s, once, stop)
    finally:
        if endpoint is not None:
            endpoint.stop()
        target.close()
        letters.close(timeout=10)


@dataclass(slots=True)
class PollSummary:
    published: int = 0
    requests: int = 0
    retries: int = 0


def poll_endpoint(
    settings: Settings,
    source: str,
    poll: PollSettings,
    interval_s: float,
    once: bool,
    stop: Stop,
    on_round: Callable[[PublishSummary, str | None], None] = lambda summary, cursor: None,
) -> PollSummary:
    """Poll ``poll.url`` round after round (one round with ``once``), each from the cursor
    of the last batch on the raw topic; ``on_round(summary, cursor_from)`` after each.
    Raises :class:`ingest.errors.SourceUnavailable` when the endpoint gives up."""
    poller = HttpPoller(poll, source, lambda s: wait_between_rounds(s, stop))
    totals = PollSummary()
    with SourcePublisher(settings, settings.topics.raw(source)) as target:
        endpoint = metrics_endpoint(settings, once)
        try:
            _poll_rounds(target, poller, poll, source, interval_s, once, stop, on_round, totals)
        finally:
            if endpoint is not None:
                endpoint.stop()
    totals.requests, totals.retries = poller.requests, poller.retries
    return totals


def _poll_rounds(
    target: SourcePublisher,
    poller: HttpPoller,
    poll: PollSettings,
    source: str,
    interval_s: float,
    once: bool,
    stop: Stop,
    on_round: Callable[[PublishSummary, str | None], None],
    totals: PollSummary,
) -> None:
    while not stop():
        start = target.resume_point(poll.origin)
        summary = target.publish(
            poller.feed(poller.records(start.cursor, start.position)),
            f"poll {poll.origin}",
            finished=False,
        )
        totals.published += summary.records
        observe_published(source, summary.records, summary.payload_bytes)
        CONNECTOR_ROUNDS.labels(source).inc()
        on_round(summary, start.cursor)
        if once:
            break
        wait_between_rounds(interval_s, stop)
