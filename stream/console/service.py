"""Triage actions end to end: check the rule, compare-and-set the state and record the
audit event in one transaction. Events then wait in the outbox for the publisher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from schemas.alert_action import AlertAction, Suppression
from stream.console import workflow
from stream.console.store import AlertState, Conflict, Store, new_event_id
from stream.console.workflow import Actor, Refused

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AlertRef:
    """What the workflow needs to know of an alert from ClickHouse."""

    alert_id: str
    rule: str
    party_key: str


class Triage:
    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    def _event(
        self,
        alert: AlertRef,
        actor: Actor,
        action: str,
        before: AlertState,
        after: AlertState,
        **extra: object,
    ) -> AlertAction:
        return AlertAction.model_validate(
            {
                "event_id": new_event_id(),
                "alert_id": alert.alert_id,
                "action": action,
                "actor": actor.username,
                "actor_role": actor.role,
                "at": self.clock(),
                "before": before.fields(),
                "after": after.fields(),
                "rule": alert.rule,
                **extra,
            }
        )

    def change(
        self,
        alert: AlertRef,
        actor: Actor,
        action: str,
        seen_version: int,
        step: Callable[[AlertState], AlertState],
        text: str = "",
    ) -> AlertState:
        """Apply ``step`` to the state the actor saw (``seen_version``); :class:`Conflict`
        when the alert changed since, :class:`Refused` when the rule forbids it."""
        with self.store.transaction() as conn:
            current = self.store.state(alert.alert_id, conn)
            if current.version != seen_version:
                who = current.updated_by or "someone"
                raise Conflict(
                    f"{who} changed this alert (now {current.status}"
                    f"{', ' + current.assignee if current.assignee else ''}) since you loaded it"
                )
            new = step(current)
            now = self.clock()
            stored = self.store.compare_and_set(conn, current, new, actor.username, now)
            outcome = new.outcome if action == "close" else None
            event = self._event(
                alert, actor, action, current, stored, comment=text, outcome=outcome
            )
            self.store.record(conn, event)
        return stored

    def claim(self, alert: AlertRef, actor: Actor, seen: int) -> AlertState:
        return self.change(alert, actor, "claim", seen, lambda s: workflow.claim(s, actor))

    def assign(self, alert: AlertRef, actor: Actor, seen: int, assignee: str) -> AlertState:
        users = {name for name, _ in self.store.usernames()}
        return self.change(
            alert, actor, "assign", seen, lambda s: workflow.assign(s, actor, assignee, users)
        )

    def set_status(self, alert: AlertRef, actor: Actor, seen: int, status: str) -> AlertState:
        return self.change(
            alert, actor, "status", seen, lambda s: workflow.set_status(s, actor, status)
        )

    def close(
        self, alert: AlertRef, actor: Actor, seen: int, outcome: str, text: str
    ) -> AlertState:
        return self.change(
            alert, actor, "close", seen, lambda s: workflow.close(s, actor, outcome, text), text
        )

    def reopen(self, alert: AlertRef, actor: Actor, seen: int) -> AlertState:
        return self.change(alert, actor, "reopen", seen, lambda s: workflow.reopen(s, actor))

    def comment(self, alert: AlertRef, actor: Actor, text: str) -> None:
        """A comment changes no state, so it needs no version."""
        clean = workflow.comment(actor, text)
        with self.store.transaction() as conn:
            state = self.store.state(alert.alert_id, conn)
            self.store.record(
                conn, self._event(alert, actor, "comment", state, state, comment=clean)
            )

    def request_suppression(self, alert: AlertRef, actor: Actor, days: int, reason: str) -> int:
        workflow.request_suppression(actor, days, reason)
        with self.store.transaction() as conn:
            state = self.store.state(alert.alert_id, conn)
            sid = self.store.add_suppression(
                conn,
                {
                    "alert_id": alert.alert_id,
                    "party_key": alert.party_key,
                    "rule": alert.rule,
                    "days": days,
                    "reason": reason.strip(),
                    "status": "pending",
                    "requested_by": actor.username,
                    "requested_at": self.clock(),
                },
            )
            event = self._event(
                alert,
                actor,
                "suppression_requested",
                state,
                state,
                comment=f"suppress {alert.rule} for {alert.party_key} for {days} days: "
                f"{reason.strip()}",
            )
            self.store.record(conn, event)
        return sid

    def decide_suppression(self, suppression_id: int, actor: Actor, approve: bool) -> None:
        with self.store.transaction() as conn:
            row = self.store.suppression(suppression_id, conn)
            if row is None:
                raise Refused(f"no suppression {suppression_id}")
            workflow.decide_suppression(actor, row["requested_by"])
            if row["status"] != "pending":
                raise Conflict(f"suppression {suppression_id} was already {row['status']}")
            now = self.clock()
            until = now + timedelta(days=row["days"]) if approve else None
            self.store.decide_suppression(
                conn,
                suppression_id,
                {
                    "status": "approved" if approve else "rejected",
                    "decided_by": actor.username,
                    "decided_at": now,
                    "until": until,
                },
            )
            alert = AlertRef(row["alert_id"], row["rule"], row["party_key"])
            state = self.store.state(alert.alert_id, conn)
            rule = Suppression(
                suppression_id=suppression_id,
                party_key=row["party_key"],
                rule=row["rule"],
                until=until or now,
                reason=row["reason"],
            )
            event = self._event(
                alert,
                actor,
                "suppression_approved" if approve else "suppression_rejected",
                state,
                state,
                comment=f"requested by {row['requested_by']}: {row['reason']}",
                suppression=rule if approve else None,
            )
            self.store.record(conn, event)
