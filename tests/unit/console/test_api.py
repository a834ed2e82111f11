"""The console over HTTP (Starlette's test client): login, roles, CSRF, the workflow's
forms, compare-and-set as a user sees it, the queue's filters, cookies."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from schemas.settings import ConsoleSettings
from stream.console.auth import ConsoleExposed, check_exposure
from tests.unit.console.fixtures import PASSWORDS, csrf_of, harness, version_of


def act(client: TestClient, alert_id: str, **form: str) -> tuple[int, str]:
    page = client.get(f"/alerts/{alert_id}")
    data = {"csrf": csrf_of(page.text), **form}
    if "version" not in form:
        data["version"] = str(version_of(page.text))
    answer = client.post(f"/alerts/{alert_id}", data=data)
    return answer.status_code, answer.text


@pytest.mark.parametrize(
    "path", ["/", "/alerts/a1", "/audit", "/suppressions", "/queue/rows", "/api/queue"]
)
def test_every_page_and_api_needs_a_login(tmp_path: Path, path: str) -> None:
    answer = harness(tmp_path).client().get(path)
    assert answer.status_code in (303, 401)
    if answer.status_code == 303:
        assert answer.headers["location"].startswith("/login")


def test_a_wrong_password_is_refused_and_logins_are_rate_limited(tmp_path: Path) -> None:
    now = [0.0]
    box = harness(tmp_path, clock=lambda: now[0])
    client = box.client()
    csrf = csrf_of(client.get("/login").text)
    for _ in range(3):
        bad = client.post("/login", data={"username": "ana", "password": "nope", "csrf": csrf})
        assert bad.status_code == 401
    right = {"username": "ana", "password": PASSWORDS["ana"], "csrf": csrf}
    assert client.post("/login", data=right).status_code == 429
    now[0] = 61.0
    assert client.post("/login", data=right).status_code == 303


def test_the_login_form_without_its_csrf_token_is_refused(tmp_path: Path) -> None:
    client = harness(tmp_path).client()
    client.get("/login")
    answer = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"]})
    assert answer.status_code == 403
    assert "cw_session" not in answer.cookies


def test_cookies_are_httponly_strict_and_secure_over_https(tmp_path: Path) -> None:
    box = harness(tmp_path)
    client = box.client("https://testserver")
    page = client.get("/login")
    answer = client.post(
        "/login", data={"username": "ana", "password": PASSWORDS["ana"], "csrf": csrf_of(page.text)}
    )
    cookie = next(v for k, v in answer.headers.multi_items() if "cw_session=" in v)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    plain = box.client()
    page = plain.get("/login")
    assert "Secure" not in page.headers["set-cookie"]


def test_a_post_without_or_with_a_wrong_csrf_token_changes_nothing(tmp_path: Path) -> None:
    box = harness(tmp_path)
    client = box.login("ana")
    for data in (
        {"action": "claim", "version": "0"},
        {"action": "claim", "version": "0", "csrf": "x"},
    ):
        answer = client.post("/alerts/a1", data=data)
        assert answer.status_code == 403
        assert "CSRF" in answer.text
    assert box.store.state("a1").version == 0
    assert box.store.trail("a1") == []


def test_an_analyst_claims_comments_and_closes_and_another_user_sees_it(tmp_path: Path) -> None:
    box = harness(tmp_path)
    ana = box.login("ana")
    assert act(ana, "a1", action="claim")[0] == 303
    status, text = act(ana, "a1", action="close", outcome="false_positive", comment="")
    assert status == 400 and "needs a comment" in text
    act(ana, "a1", action="comment", comment="toy drone")
    assert act(ana, "a1", action="close", outcome="false_positive", comment="toy drone")[0] == 303
    state = box.store.state("a1")
    assert (state.status, state.outcome, state.assignee) == ("closed", "false_positive", "ana")
    page = box.login("lee").get("/alerts/a1").text
    assert "false positive" in page and "toy drone" in page and "ana (analyst)" in page


def test_two_analysts_on_one_alert_one_wins_the_other_is_told(tmp_path: Path) -> None:
    box = harness(tmp_path)
    ana, bob = box.login("ana"), box.login("bob")
    page_a, page_b = ana.get("/alerts/a1").text, bob.get("/alerts/a1").text
    first = ana.post(
        "/alerts/a1",
        data={"action": "claim", "version": str(version_of(page_a)), "csrf": csrf_of(page_a)},
    )
    second = bob.post(
        "/alerts/a1",
        data={"action": "claim", "version": str(version_of(page_b)), "csrf": csrf_of(page_b)},
    )
    assert first.status_code == 303
    assert second.status_code == 409
    assert "ana changed this alert" in second.text
    assert box.store.state("a1").assignee == "ana"


def test_a_viewer_sees_no_actions_and_a_forged_post_is_refused(tmp_path: Path) -> None:
    box = harness(tmp_path)
    vera = box.login("vera")
    page = vera.get("/alerts/a1")
    assert page.status_code == 200 and 'id="claim"' not in page.text
    answer = vera.post(
        "/alerts/a1", data={"action": "claim", "version": "0", "csrf": csrf_of(page.text)}
    )
    assert answer.status_code == 403 and "viewer" in answer.text
    assert box.store.trail("a1") == []


def test_suppression_approval_is_for_another_lead_only(tmp_path: Path) -> None:
    box = harness(tmp_path)
    ana, lee, lou = box.login("ana"), box.login("lee"), box.login("lou")
    act(ana, "a1", action="suppress", days="30", reason="known spare-parts trader")
    (row,) = box.store.suppressions()
    sid = row["suppression_id"]

    def decide(client: TestClient, decision: str) -> int:
        csrf = csrf_of(client.get("/suppressions").text)
        form = {"decision": decision, "csrf": csrf}
        return client.post(f"/suppressions/{sid}", data=form).status_code

    assert decide(ana, "approve") == 403
    assert box.store.suppressions()[0]["status"] == "pending"
    act(lee, "a1", action="suppress", days="10", reason="lee asks too")
    own = box.store.suppressions()[0]["suppression_id"]
    csrf = csrf_of(lee.get("/suppressions").text)
    assert (
        lee.post(f"/suppressions/{own}", data={"decision": "approve", "csrf": csrf}).status_code
        == 403
    )
    assert decide(lou, "approve") == 303
    statuses = {s["suppression_id"]: s["status"] for s in box.store.suppressions()}
    assert statuses == {sid: "approved", own: "pending"}
    active = lou.get("/api/suppressions").json()
    assert [(s["party_key"], s["rule"]) for s in active] == [
        ("OOO Vektor", "battlefield_goods_to_high_risk")
    ]


def test_the_queue_filters_are_in_the_url_and_counted(tmp_path: Path) -> None:
    box = harness(tmp_path)
    ana = box.login("ana")
    assert [a["alert_id"] for a in ana.get("/api/queue").json()["alerts"]] == ["a1", "a2", "a3"]
    only = ana.get("/api/queue?severity=critical&party=vektor&from=2024-05-01").json()
    assert [a["alert_id"] for a in only["alerts"]] == ["a1"]
    assert ana.get("/api/queue?destination=kg").json()["count"] == 1
    act(ana, "a2", action="claim")
    act(ana, "a2", action="close", outcome="confirmed", comment="listed")
    assert [a["alert_id"] for a in ana.get("/api/queue").json()["alerts"]] == ["a1", "a3"]
    closed = ana.get("/api/queue?status=closed").json()["alerts"]
    assert [a["alert_id"] for a in closed] == ["a2"]
    assert ana.get("/api/queue?assignee=ana&status=all").json()["count"] == 1
    page = ana.get("/?rule=chpl_to_high_risk&status=all").text
    assert "closed: <b>1</b>" in page


def test_bulk_actions_apply_to_each_ticked_alert_and_report_conflicts(tmp_path: Path) -> None:
    box = harness(tmp_path)
    ana = box.login("ana")
    csrf = csrf_of(ana.get("/").text)
    done = ana.post("/bulk", data={"pick": ["a1:0", "a3:0"], "action": "claim", "csrf": csrf})
    assert done.status_code == 200 and "2 alert(s) changed" in done.text
    again = ana.post("/bulk", data={"pick": ["a1:0"], "action": "claim", "csrf": csrf})
    assert again.status_code == 409 and "changed this alert" in again.text
    assert {box.store.state(a).status for a in ("a1", "a3")} == {"in_review"}


def test_the_alert_page_shows_evidence_highlighted_as_written_and_the_route(
    tmp_path: Path,
) -> None:
    page = harness(tmp_path).login("ana").get("/alerts/a1").text
    assert "<mark>Квадрокоптер</mark> DJI Mavic 3" in page
    assert "CN → HK → RU" in page
    assert "sanctioned party" in page  # the party's other alert
    assert page.count("Content-Security-Policy") == 0


def test_listening_off_loopback_needs_tls_or_a_trusted_proxy() -> None:
    check_exposure(ConsoleSettings(host="127.0.0.1"))
    with pytest.raises(ConsoleExposed, match="without TLS"):
        check_exposure(ConsoleSettings(host="0.0.0.0"))
    check_exposure(ConsoleSettings(host="0.0.0.0", trusted_proxy="10.0.0.5"))
    check_exposure(
        ConsoleSettings(host="0.0.0.0", tls_certfile=Path("c.pem"), tls_keyfile=Path("k.pem"))
    )


def test_serve_off_loopback_in_clear_text_exits_with_the_reason(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stream.cli.main import app

    env = {"CUSTOMS_WATCH_CONSOLE_DB_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    result = CliRunner().invoke(app, ["console", "serve", "--host", "0.0.0.0"], env=env)
    assert result.exit_code != 0
    assert isinstance(result.exception, ConsoleExposed)
    assert "CUSTOMS_WATCH_CONSOLE_TRUSTED_PROXY" in str(result.exception)


def test_logging_out_ends_the_session(tmp_path: Path) -> None:
    box = harness(tmp_path)
    ana = box.login("ana")
    token = ana.cookies.get("cw_session")
    csrf = csrf_of(ana.get("/").text)
    assert ana.post("/logout", data={"csrf": csrf}).status_code == 303
    replay = box.client()
    replay.cookies.set("cw_session", str(token))
    assert replay.get("/").status_code == 303  # the server forgot it, not only the browser
    assert replay.get("/api/queue").status_code == 401
