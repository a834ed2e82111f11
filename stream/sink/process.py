"""``customs-watch sink``: the ClickHouse sink as a process of its own.

The worker runs the sink next to the stream agents by default. On a machine with more than
one core, or to scale writes apart from the stream, run ``customs-watch worker --no-sink``
and this process instead: it owns the embedded data directory (or connects to the server),
migrates, sets the TTLs, serves the named queries on its web port (the CLI finds it through
the owner file, as it finds a worker) and sends dead letters with its own producer. SIGTERM
or SIGINT stops it after the batch in flight.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from aiohttp import web
from aiokafka import AIOKafkaProducer

from schemas.dead_letter import DeadLetter
from schemas.settings import Settings
from stream.sink.service import Sink
from stream.warehouse import ownership
from stream.warehouse.async_client import AsyncWarehouse
from stream.warehouse.web import QUERY_PATH, answer

log = logging.getLogger(__name__)


def _producer(settings: Settings) -> AIOKafkaProducer:
    kafka = settings.kafka
    config = {
        **kafka.client_config(),
        "client_id": f"{kafka.client_id}-sink",
        "acks": "all",
        "max_request_size": settings.topics.max_message_bytes,
    }
    # Not idempotent: the local broker refuses aiokafka's InitProducerId, and a dead letter
    # sent twice is one row anyway (dead_letters is keyed by the letter's identity).
    config.pop("request_timeout_ms", None)
    return AIOKafkaProducer(**config)


async def _serve(settings: Settings, warehouse: AsyncWarehouse) -> web.AppRunner:
    async def query(request: web.Request) -> web.Response:
        status, body = await answer(
            warehouse, request.match_info["name"], request.query.get("since")
        )
        return web.Response(body=body, status=status, content_type="application/json")

    app = web.Application()
    app.router.add_get(QUERY_PATH, query)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, settings.worker.web_host, settings.worker.web_port).start()
    return runner


async def _run(settings: Settings, warehouse: AsyncWarehouse) -> None:
    producer = _producer(settings)
    await producer.start()

    async def send(letters: list[DeadLetter]) -> None:
        for letter in letters:
            await producer.send_and_wait(
                settings.topics.deadletter,
                key=letter.source.encode(),
                value=letter.model_dump_json().encode(),
            )

    sink = Sink(settings, warehouse, send)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, sink.stop)
    runner = await _serve(settings, warehouse)
    try:
        await sink.run()
    finally:
        await runner.cleanup()
        await producer.stop()


def run_sink(settings: Settings) -> None:
    """Block until SIGTERM/SIGINT."""
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
