"""A topic's incarnation: the id the broker gave it when it was created (see plans.py).

Kafka (2.8+) and the local broker report a topic id (a UUID) in their metadata; deleting
and creating the topic again gives a new one. A broker that reports none (or the all-zero
id) gives ``""``: the sink then falls back to content digests in its tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

from ingest.broker.clients import kafka_admin
from schemas.settings import KafkaSettings

NO_ID = "00000000-0000-0000-0000-000000000000"


def topic_ids(kafka: KafkaSettings, topics: Iterable[str]) -> dict[str, str]:
    """Topic name → its id now, ``""`` where the broker reports none. Blocking."""
    names = list(topics)
    admin = kafka_admin(kafka)
    try:
        described = admin.describe_topics(names)
    finally:
        admin.close()
    ids = {str(t.get("name")): _id(t.get("topic_id")) for t in described}
    return {name: ids.get(name, "") for name in names}


def _id(value: object) -> str:
    text = str(value or "")
    return "" if text in ("", "None", NO_ID) else text
