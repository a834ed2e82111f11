"""The triage service on a real SQLite store: compare-and-set, the audit events, the
outbox, suppressions."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from schemas.codecs import ALERT_ACTION
from stream.console.publisher import Outbox
from stream.console.service import AlertRef, Triage
from stream.console.store import Conflict, Store
from stream.console.workflow import Actor, Refused
from tests.unit.console.fixtures import T0

A1 = AlertRef("a1", "chpl_to_high_risk", "OOO Vektor")
ANA, BOB = Actor("ana", "analyst"), Actor("bob", "analyst")
LEE, LOU = Actor("lee", "lead"), Actor("lou", "lead")


@pytest.fixture
def triage(tmp_path: Path) -> Triage:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    assert store.migrate() == [1]
    assert store.migrate() == []
    return Triage(store, clock=lambda: T0)


def test_of_two_analysts_acting_on_the_same_version_one_wins_the_other_is_told(
    triage: Triage,
) -> None:
    triage.claim(A1, ANA, seen=0)
    with pytest.raises(Conflict, match="ana changed this alert"):
        triage.claim(A1, BOB, seen=0)
    state = triage.store.state("a1")
    assert (state.assignee, state.version) == ("ana", 1)
    assert [e.actor for e in triage.store.trail("a1")] == ["ana"]


def test_racing_threads_on_a_new_alert_leave_exactly_one_winner(triage: Triage) -> None:
    results: list[str] = []
    barrier = threading.Barrier(6)

    def claim(name: str) -> None:
        barrier.wait()
        try:
            triage.claim(A1, Actor(name, "analyst"), seen=0)
            results.append("won")
        except Conflict:
            results.append("told")

    threads = [threading.Thread(target=claim, args=(f"u{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["told"] * 5 + ["won"]
    assert len(triage.store.trail("a1")) == 1


def test_every_action_is_an_event_with_before_and_after_in_the_outbox(triage: Triage) -> None:
    triage.claim(A1, ANA, 0)
    triage.comment(A1, ANA, "looks like a real drone")
    triage.close(A1, ANA, 1, "false_positive", "toy drone, HS 9503")
    trail = list(reversed(triage.store.trail("a1")))
    assert [e.action for e in trail] == ["claim", "comment", "close"]
    assert trail[0].before == {"status": "new", "assignee": None, "outcome": None}
    assert trail[0].after["status"] == "in_review"
    assert trail[2].after == {"status": "closed", "assignee": "ana", "outcome": "false_positive"}
    assert (trail[2].outcome, trail[2].rule, trail[2].comment) == (
        "false_positive",
        "chpl_to_high_risk",
        "toy drone, HS 9503",
    )
    assert [e.event_id for e in triage.store.unpublished()] == [e.event_id for e in trail]


class FakeFuture:
    def get(self, timeout: float) -> None:
        return None


class RecordingProducer:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.fail = fail

    def send(self, topic: str, key: bytes, value: bytes) -> FakeFuture:
        if self.fail:
            raise ConnectionError("broker away")
        self.sent.append((topic, key, value))
        return FakeFuture()

    def flush(self) -> None:
        pass

    def close(self, timeout: float) -> None:
        pass


def test_the_outbox_keeps_events_while_the_broker_is_away_and_sends_each_once(
    triage: Triage,
) -> None:
    triage.claim(A1, ANA, 0)
    away = Outbox(triage.store, "t.alert-actions", lambda: RecordingProducer(fail=True))
    with pytest.raises(ConnectionError):
        away.drain()
    assert len(triage.store.unpublished()) == 1
    producer = RecordingProducer()
    outbox = Outbox(triage.store, "t.alert-actions", lambda: producer)
    assert outbox.drain() == 1
    assert outbox.drain() == 0
    topic, key, value = producer.sent[0]
    assert (topic, key, ALERT_ACTION.decode(value).action) == ("t.alert-actions", b"a1", "claim")


def test_a_suppression_needs_a_second_lead_and_becomes_active_for_its_days(
    triage: Triage,
) -> None:
    sid = triage.request_suppression(A1, LEE, 30, "known distributor of spare parts")
    assert triage.store.active_suppressions(T0) == []
    with pytest.raises(Refused, match="only a lead"):
        triage.decide_suppression(sid, ANA, approve=True)
    with pytest.raises(Refused, match="four eyes"):
        triage.decide_suppression(sid, LEE, approve=True)
    triage.decide_suppression(sid, LOU, approve=True)
    with pytest.raises(Conflict, match="already approved"):
        triage.decide_suppression(sid, LOU, approve=False)
    (active,) = triage.store.active_suppressions(T0 + timedelta(days=29))
    assert (active.party_key, active.rule, active.until) == (
        "OOO Vektor",
        "chpl_to_high_risk",
        T0 + timedelta(days=30),
    )
    assert triage.store.active_suppressions(T0 + timedelta(days=31)) == []
    approved = triage.store.trail("a1")[0]
    assert approved.action == "suppression_approved"
    assert approved.suppression is not None and approved.suppression.suppression_id == sid
