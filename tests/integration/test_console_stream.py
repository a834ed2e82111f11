"""The console's events in the stream: a suppression approved on ``<prefix>.alert-actions``
keeps the worker from publishing the alerts it covers (they are still stored, marked), and
the sink lands the action events so ``rule_outcomes`` reports outcomes per rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ingest.broker.clients import kafka_producer
from ingest.broker.reader import read_to_end
from ingest.seeds import seed_lines
from schemas.alert import Alert
from schemas.alert_action import AlertAction, Suppression
from schemas.codecs import ALERT_ACTION
from tests.services import Pipeline

pytestmark = pytest.mark.integration

PARTY, RULE = "OOO Keramzashchita", "battlefield_goods_to_high_risk"
NOW = datetime.now(UTC)


def action(n: int, kind: str, alert_id: str, rule: str, **extra: object) -> AlertAction:
    return AlertAction.model_validate(
        {"event_id": f"ev{n:04d}", "alert_id": alert_id, "action": kind, "actor": "lou",
         "actor_role": "lead", "at": NOW, "rule": rule, **extra}
    )  # fmt: skip


def test_a_suppression_holds_alerts_back_and_outcomes_land_per_rule(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    rule = Suppression(
        suppression_id=1, party_key=PARTY, rule=RULE, until=NOW + timedelta(days=30),
        reason="refractory supplier, checked",
    )  # fmt: skip
    events = [
        action(1, "suppression_approved", "x", RULE, suppression=rule),
        action(2, "close", "a1", "chpl_to_high_risk", outcome="confirmed"),
        action(3, "close", "a2", "chpl_to_high_risk", outcome="false_positive"),
        action(4, "close", "a3", "chpl_to_high_risk", outcome="confirmed"),
        action(5, "close", "a4", "sanctioned_party", outcome="not_relevant"),
        # a2 closed again: its last close counts, once
        action(6, "close", "a2", "chpl_to_high_risk", outcome="false_positive"),
    ]
    settings = pipeline.settings
    producer = kafka_producer(settings.kafka, acks="all")
    for event in events:
        producer.send(
            settings.topics.alert_actions,
            key=event.alert_id.encode(),
            value=ALERT_ACTION.encode(event),
        )
    producer.flush()
    producer.close()

    feed = tmp_path / "seeds.jsonl"
    feed.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in seed_lines()))
    pipeline.start_worker()
    pipeline.cli("ingest", "jsonl", str(feed))
    pipeline.cli("wait", "--timeout", "120")

    stored = orjson.loads(pipeline.cli("query", "console_alerts", "--format", "json").stdout)
    mine = [a for a in stored if a["party_key"] == PARTY and a["rule"] == RULE]
    assert len(mine) == 2, pipeline.worker_logs()
    assert all(str(a["suppressed_by"]).startswith("suppression 1 until") for a in mine)
    others = [a for a in stored if not (a["party_key"] == PARTY and a["rule"] == RULE)]
    assert others and all(a["suppressed_by"] is None for a in others)

    published = [
        Alert.model_validate_json(r.value) for r in read_to_end(settings, settings.topics.alerts)
    ]
    keys = {(a.partition_key(), a.rule) for a in published}
    assert (PARTY, RULE) not in keys
    assert (PARTY, "new_importer_chpl") in keys  # the same party's other rules still go out
    assert len(published) == len(others)

    outcomes = orjson.loads(pipeline.cli("query", "rule_outcomes", "--format", "json").stdout)
    by_rule = {row["rule"]: row for row in outcomes}
    chpl = by_rule["chpl_to_high_risk"]
    assert (chpl["closed"], chpl["confirmed"], chpl["false_positive"]) == (3, 2, 1)
    assert float(chpl["confirmed_rate"]) == pytest.approx(0.667)
    assert (by_rule["sanctioned_party"]["closed"], by_rule["sanctioned_party"]["not_relevant"]) == (
        1,
        1,
    )
