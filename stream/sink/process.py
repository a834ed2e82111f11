"""``customs-watch sink``: the ClickHouse sink as a process of its own.

The worker runs the sink next to the stream agents by default. On a machine with more than
one core, or to scale writes apart from the stream, run ``customs-watch worker --no-sink``
and this process instead: it owns the embedded data directory (or connects to the server),
migrates, sets the TTLs, serves the named queries on its web port (the CLI finds it through
the owner file, as it finds a worker) and sends dead letters with its own producer. SIGTERM
or SIGINT stops it after the batch in flight. With CUSTOMS_WATCH_METRICS_ENABLED it serves
/metrics, /healthz and /readyz on CUSTOMS_WATCH_METRICS_SINK_PORT.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from ingest.broker.clients import aiokafka_producer
from ingest.broker.deadletters import send_dead_letters
from schemas.dead_letter import DeadLetter
from schemas.settings import Settings
from stream.metrics.endpoint import LagPoller, start_endpoint
from stream.runtime import tune_gc
from stream.sink.service import Sink, sink_group
from stream.sink.tables import sink_tables
from stream.warehouse import ownership
from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.web import QueryGate, check_exposure, serve_queries

log = logging.getLogger(__name__)


def _producer(settings: Settings) -> AIOKafkaProducer:
    kafka = settings.kafka
    # Not idempotent: the local broker refuses aiokafka's InitProducerId, and a dead letter
    # sent twice is one row anyway (dead_letters is keyed by the letter's identity).
    return aiokafka_producer(
        kafka,
        client_id=f"{kafka.client_id}-sink",
        acks="all",
        max_request_size=settings.topics.max_message_bytes,
    )


async def _run(settings: Settings, warehouse: AsyncWarehouse) -> None:
    producer = _producer(settings)
    await producer.start()

    async def enqueue(key: bytes, value: bytes) -> Any:
        return await producer.send(settings.topics.deadletter, value=value, key=key)

    async def send(letters: list[DeadLetter]) -> None:
        await send_dead_letters(enqueue, letters)

    sink = Sink(settings, warehouse, send)
    endpoint = start_endpoint(settings, "sink", sink.why_not_ready)
    lag = (
        LagPoller(settings, sink_group(settings), list(sink_tables(settings.topics))).start()
        if endpoint is not None
        else None
    )
    tune_gc(settings.worker.gc_thresholds)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, sink.stop)
    worker = settings.worker
    runner = await serve_queries(QueryGate(warehouse, worker), worker.web_host, worker.web_port)
    try:
        await sink.run()
    finally:
        if endpoint is not None:
            endpoint.stop()
        if lag is not None:
            lag.stop()
        await runner.cleanup()
        await producer.stop()


def run_sink(settings: Settings) -> None:
    """Block until SIGTERM/SIGINT."""
    check_exposure(settings.worker)  # no web port off loopback without a token
    data_dir: Path | None = settings.clickhouse.embedded_path()
    url = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
    if data_dir is not None:
        ownership.claim(data_dir, url)
    warehouse = AsyncWarehouse(settings.clickhouse)
    try:
        applied = warehouse.migrate()
        ttls = warehouse.apply_ttls()
        log.info(
            "sink starting",
            extra={
                "group": f"{settings.worker.app_id}-sink",
                "web": url,
                "migrations_applied": ",".join(applied) or "-",
                "ttls": ",".join(ttls) or "-",
            },
        )
        asyncio.run(_run(settings, warehouse))
    finally:
        warehouse.close()
        if data_dir is not None:
            ownership.release(data_dir)
