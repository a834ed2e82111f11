"""The stream's side of suppressions: which alerts an approved suppression covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.alert import Alert, LineKey, Party
from schemas.alert_action import AlertAction, Suppression
from stream.stages.suppress import Key, fold, mark

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def alert(rule: str, importer: str, at: datetime) -> Alert:
    return Alert(
        alert_id=f"{rule}-{importer}-{at:%j}",
        rule=rule,
        severity="high",
        score=0.8,
        reason="r",
        lines=[LineKey(declaration_id="D", line_no=1)],
        parties=[Party(role="exporter", name="Exp Co"), Party(role="importer", name=importer)],
        first_seen=at,
        last_seen=at,
        created_at=at,
    )


def approval(
    sid: int, party: str, rule: str, until: datetime, kind: str = "suppression_approved"
) -> AlertAction:
    return AlertAction(
        event_id=f"e{sid}",
        alert_id="a",
        action=kind,  # type: ignore[arg-type]
        actor="lou",
        actor_role="lead",
        at=T0,
        suppression=Suppression(
            suppression_id=sid, party_key=party, rule=rule, until=until, reason="known trader"
        ),
    )


def test_an_approved_suppression_marks_that_party_and_rule_until_it_ends() -> None:
    book: dict[Key, Suppression] = {}
    fold(book, approval(7, "OOO Vektor", "chpl_to_high_risk", T0 + timedelta(days=30)))
    covered = mark(alert("chpl_to_high_risk", "OOO Vektor", T0 + timedelta(days=1)), book)
    assert covered.suppressed_by == "suppression 7 until 2026-03-31: known trader"
    for other in (
        alert("transshipment", "OOO Vektor", T0 + timedelta(days=1)),
        alert("chpl_to_high_risk", "OOO Pozitron", T0 + timedelta(days=1)),
        alert("chpl_to_high_risk", "OOO Vektor", T0 + timedelta(days=30)),
    ):
        assert mark(other, book).suppressed_by is None


def test_only_approvals_count_and_the_longest_wins() -> None:
    book: dict[Key, Suppression] = {}
    until = T0 + timedelta(days=10)
    fold(book, approval(1, "P", "r", until, kind="suppression_requested"))
    assert book == {}
    fold(book, approval(2, "P", "r", until))
    fold(book, approval(3, "P", "r", until - timedelta(days=5)))
    assert book[("P", "r")].suppression_id == 2
