"""The workflow's rules, without a store: roles, transitions, closing, four eyes."""

from __future__ import annotations

import pytest

from stream.console import workflow
from stream.console.store import AlertState
from stream.console.workflow import Actor, Refused

ANA, BOB = Actor("ana", "analyst"), Actor("bob", "analyst")
LEE, VERA = Actor("lee", "lead"), Actor("vera", "viewer")
NEW = AlertState("a1")


def test_claiming_a_new_alert_puts_it_in_review_with_the_claimer() -> None:
    state = workflow.claim(NEW, ANA)
    assert (state.status, state.assignee) == ("in_review", "ana")


@pytest.mark.parametrize(
    "step",
    [
        lambda s: workflow.claim(s, VERA),
        lambda s: workflow.set_status(s, VERA, "escalated"),
        lambda s: workflow.close(s, VERA, "confirmed", "seen"),
        lambda s: workflow.comment(VERA, "hello"),
        lambda s: workflow.request_suppression(VERA, 10, "known trader"),
    ],
)
def test_a_viewer_cannot_change_anything(step) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused, match="viewer"):
        step(workflow.claim(NEW, ANA))


def test_the_statuses_move_only_forward_except_escalation_back_to_review() -> None:
    review = workflow.claim(NEW, ANA)
    escalated = workflow.set_status(review, ANA, "escalated")
    assert workflow.set_status(escalated, ANA, "in_review").status == "in_review"
    with pytest.raises(Refused, match="cannot go from in_review to new"):
        workflow.set_status(review, ANA, "new")
    with pytest.raises(Refused, match="outcome"):
        workflow.set_status(review, ANA, "closed")


def test_closing_needs_a_known_outcome_a_comment_and_a_claimed_alert() -> None:
    review = workflow.claim(NEW, ANA)
    with pytest.raises(Refused, match="comment"):
        workflow.close(review, ANA, "false_positive", "  ")
    with pytest.raises(Refused, match="outcome"):
        workflow.close(review, ANA, "maybe", "why")
    with pytest.raises(Refused, match="claim it first"):
        workflow.close(NEW, ANA, "confirmed", "why")
    closed = workflow.close(review, ANA, "false_positive", "ordinary drone parts")
    assert (closed.status, closed.outcome) == ("closed", "false_positive")
    with pytest.raises(Refused, match="closed"):
        workflow.claim(closed, BOB)


def test_only_a_lead_reopens_and_assigns_to_someone_else() -> None:
    closed = workflow.close(workflow.claim(NEW, ANA), ANA, "confirmed", "yes")
    with pytest.raises(Refused, match="only a lead"):
        workflow.reopen(closed, ANA)
    reopened = workflow.reopen(closed, LEE)
    assert (reopened.status, reopened.outcome) == ("in_review", None)
    users = {"ana", "bob", "lee"}
    with pytest.raises(Refused, match="only a lead"):
        workflow.assign(NEW, ANA, "bob", users)
    assert workflow.assign(NEW, LEE, "bob", users).assignee == "bob"
    assert workflow.assign(NEW, ANA, "ana", users).assignee == "ana"
    with pytest.raises(Refused, match="no user"):
        workflow.assign(NEW, LEE, "mallory", users)


def test_suppressions_are_decided_by_a_lead_other_than_who_asked() -> None:
    with pytest.raises(Refused, match="only a lead"):
        workflow.decide_suppression(BOB, "ana")
    with pytest.raises(Refused, match="four eyes"):
        workflow.decide_suppression(LEE, "lee")
    workflow.decide_suppression(LEE, "ana")
    with pytest.raises(Refused, match="1 to 365"):
        workflow.request_suppression(ANA, 0, "x")
    with pytest.raises(Refused, match="reason"):
        workflow.request_suppression(ANA, 30, "")
