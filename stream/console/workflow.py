"""The triage workflow as pure rules: who may do what, and which state an action leads to.

Statuses: new → in_review → escalated → closed (closing is allowed from in_review and
escalated; a lead may reopen a closed alert). Roles: a *viewer* reads; an *analyst* claims,
comments, escalates, closes, and requests suppressions; a *lead* also assigns to others,
reopens, and approves or rejects suppressions requested by someone else (four eyes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from stream.console.store import AlertState

ROLES = ("viewer", "analyst", "lead")
STATUSES = ("new", "in_review", "escalated", "closed")
OUTCOMES = ("confirmed", "false_positive", "not_relevant")
MAX_SUPPRESSION_DAYS = 365


class Refused(Exception):
    """The action is not allowed; the text says why (shown to the user)."""


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: str

    @property
    def can_act(self) -> bool:
        return self.role in ("analyst", "lead")


def require_actor(actor: Actor) -> None:
    if not actor.can_act:
        raise Refused(f"{actor.username} is a viewer: viewers cannot change alerts")


def claim(state: AlertState, actor: Actor) -> AlertState:
    require_actor(actor)
    if state.status == "closed":
        raise Refused("the alert is closed; a lead can reopen it")
    status = "in_review" if state.status == "new" else state.status
    return replace(state, assignee=actor.username, status=status)


def assign(state: AlertState, actor: Actor, assignee: str, known_users: set[str]) -> AlertState:
    require_actor(actor)
    if assignee not in known_users:
        raise Refused(f"no user named {assignee!r}")
    if assignee != actor.username and actor.role != "lead":
        raise Refused("only a lead assigns alerts to someone else; claim it instead")
    if state.status == "closed":
        raise Refused("the alert is closed; a lead can reopen it")
    status = "in_review" if state.status == "new" else state.status
    return replace(state, assignee=assignee, status=status)


_MOVES = {
    ("new", "in_review"),
    ("in_review", "escalated"),
    ("escalated", "in_review"),
    ("new", "escalated"),
}


def set_status(state: AlertState, actor: Actor, status: str) -> AlertState:
    require_actor(actor)
    if status == "closed":
        raise Refused("closing needs an outcome and a comment")
    if (state.status, status) not in _MOVES:
        raise Refused(f"an alert cannot go from {state.status} to {status}")
    assignee = state.assignee or actor.username
    return replace(state, status=status, assignee=assignee)


def close(state: AlertState, actor: Actor, outcome: str, comment: str) -> AlertState:
    require_actor(actor)
    if outcome not in OUTCOMES:
        raise Refused(f"outcome must be one of {', '.join(OUTCOMES)}")
    if not comment.strip():
        raise Refused("closing an alert needs a comment")
    if state.status not in ("in_review", "escalated"):
        raise Refused(f"an alert cannot be closed from {state.status}: claim it first")
    return replace(state, status="closed", outcome=outcome, assignee=state.assignee)


def reopen(state: AlertState, actor: Actor) -> AlertState:
    if actor.role != "lead":
        raise Refused("only a lead can reopen a closed alert")
    if state.status != "closed":
        raise Refused("only a closed alert can be reopened")
    return replace(state, status="in_review", outcome=None)


def comment(actor: Actor, text: str) -> str:
    require_actor(actor)
    if not text.strip():
        raise Refused("a comment cannot be empty")
    return text.strip()


def request_suppression(actor: Actor, days: int, reason: str) -> None:
    require_actor(actor)
    if not 1 <= days <= MAX_SUPPRESSION_DAYS:
        raise Refused(f"a suppression lasts 1 to {MAX_SUPPRESSION_DAYS} days")
    if not reason.strip():
        raise Refused("a suppression needs a reason")


def decide_suppression(actor: Actor, requested_by: str) -> None:
    if actor.role != "lead":
        raise Refused("only a lead approves or rejects suppressions")
    if actor.username == requested_by:
        raise Refused("four eyes: a suppression is decided by a lead other than who asked")
