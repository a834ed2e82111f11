"""Builds the one faust App from the settings, with its topics. Agents live in agents.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from ingest.broker.clients import faust_broker_settings
from schemas.settings import Settings


@dataclass(frozen=True)
class Topics:
    """faust handles on the project's topics; values are raw bytes, decoded by pydantic."""

    raw: Any
    declarations: Any
    enriched: Any
    alerts: Any
    deadletter: Any
    facts: Any
    flows: Any
    alert_versions: Any


def faust_settings(settings: Settings) -> dict[str, Any]:
    kafka, worker = settings.kafka, settings.worker
    conf: dict[str, Any] = {
        **faust_broker_settings(kafka),  # servers, TLS and SASL credentials
        "broker_session_timeout": kafka.session_timeout_ms / 1000,
        "broker_heartbeat_interval": kafka.heartbeat_interval_ms / 1000,
        "broker_request_timeout": kafka.request_timeout_ms / 1000,
        "broker_commit_interval": worker.commit_interval_s,
        "consumer_auto_offset_reset": "earliest",
        "producer_acks": -1,
        "producer_compression_type": None if kafka.compression == "none" else kafka.compression,
        "producer_linger_ms": kafka.linger_ms,
        "producer_max_request_size": settings.topics.max_message_bytes,
        "consumer_max_fetch_size": settings.topics.max_message_bytes,
        "topic_partitions": settings.topics.partitions,
        "topic_replication_factor": settings.topics.replication,
        "store": "memory://",
        "datadir": str(worker.data_dir),
        "web_enabled": True,
        "web_bind": worker.web_host,
        "web_host": worker.web_host,
        "web_port": worker.web_port,
        "web_in_thread": False,
        # faust's own pages would show table contents and the cluster's layout to anyone
        # on the port: only the named queries are served (stream/warehouse/web.py).
        "web_router_enabled": False,
        "web_tables_enabled": False,
        "web_graph_enabled": False,
        "web_stats_enabled": False,
        "web_metrics_enabled": False,
    }
    return conf


def create_app(settings: Settings) -> tuple[faust.App, Topics]:
    app = faust.App(settings.worker.app_id, autodiscover=False, **faust_settings(settings))

    def topic(*names: str) -> Any:
        return app.topic(
            *names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
        )

    t = settings.topics
    topics = Topics(
        raw=topic(*(t.raw(source) for source in t.sources)),
        declarations=topic(t.declarations),
        enriched=topic(t.enriched),
        alerts=topic(t.alerts),
        deadletter=topic(t.deadletter),
        facts=topic(t.facts),
        flows=topic(t.flows),
        alert_versions=topic(t.alert_versions),
    )
    return app, topics
