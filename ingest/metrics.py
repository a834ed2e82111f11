"""Prometheus metrics and the health endpoint every long-running process serves.

:class:`MetricsEndpoint` is one small HTTP server on a daemon thread: ``/metrics`` (the
Prometheus text format of the process's registry), ``/healthz`` (200 while the process is
alive: its main loop has not died) and ``/readyz`` (200 when the process does its job: its
``ready()`` says why not, with a 503). The stream processes use it through
``stream/metrics/``; the connectors' own metrics are here, because ingest may not import
stream (docs/architecture.md).

Names follow the Prometheus conventions: ``customs_watch_`` prefix, ``_total`` on counters,
base units (seconds, bytes), labels for the dimensions (source, outcome).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

log = logging.getLogger(__name__)

Ready = Callable[[], str | None]
"""None when ready, else why not (the body of the 503)."""

CONNECTOR_RECORDS = Counter(
    "customs_watch_connector_records_published_total",
    "Records a connector published to its raw topic.",
    ["source"],
)
CONNECTOR_BYTES = Counter(
    "customs_watch_connector_published_bytes_total",
    "Payload bytes a connector published to its raw topic.",
    ["source"],
)
CONNECTOR_FILES = Counter(
    "customs_watch_connector_files_total",
    "Files a folder watch finished, by outcome (published, refused).",
    ["source", "outcome"],
)
CONNECTOR_ROUNDS = Counter(
    "customs_watch_connector_poll_rounds_total",
    "Rounds a polling connector finished.",
    ["source"],
)
CONNECTOR_LAST_PUBLISH = Gauge(
    "customs_watch_connector_last_publish_timestamp_seconds",
    "Unix time of the connector's last publish that carried records.",
    ["source"],
)


def observe_published(source: str, records: int, payload_bytes: int) -> None:
    """One file or poll round published."""
    CONNECTOR_RECORDS.labels(source).inc(records)
    CONNECTOR_BYTES.labels(source).inc(payload_bytes)
    if records:
        CONNECTOR_LAST_PUBLISH.labels(source).set_to_current_time()


class MetricsEndpoint:
    """``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` (port 0: any free one)."""

    def __init__(
        self,
        host: str,
        port: int,
        ready: Ready,
        alive: Callable[[], bool] = lambda: True,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._answer(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    ok = endpoint.alive()
                    self._answer(200 if ok else 503, b"ok\n" if ok else b"dead\n")
                elif path == "/readyz":
                    why = endpoint.why_not_ready()
                    self._answer(503 if why else 200, (why or "ready").encode() + b"\n")
                else:
                    self._answer(404, b"not found\n")

            def _answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # a scrape every 15 s is not worth a log line

        self._ready = ready
        self.alive = alive
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def why_not_ready(self) -> str | None:
        try:
            return self._ready()
        except Exception as exc:  # a readiness check that fails is a "not ready"
            return f"readiness check failed: {type(exc).__name__}: {exc}"

    def start(self) -> MetricsEndpoint:
        self._thread.start()
        log.info("metrics endpoint", extra={"port": self.port})
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
