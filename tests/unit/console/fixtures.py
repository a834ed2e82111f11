"""A console over a temporary SQLite store and two alerts given as query results."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from stream.console.alerts import AlertSource
from stream.console.app import Console, build_app
from stream.console.auth import LoginLimiter, add_user
from stream.console.service import Triage
from stream.console.store import Store
from stream.warehouse.client import QueryResult

PASSWORDS = {
    "vera": "viewer-pass",
    "ana": "analyst-pass",
    "bob": "analyst2-pass",
    "lee": "lead-password",
    "lou": "lead2-password",
}
ROLES = {"vera": "viewer", "ana": "analyst", "bob": "analyst", "lee": "lead", "lou": "lead"}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

ALERT_COLUMNS = [
    "alert_id",
    "rule",
    "severity",
    "score",
    "reason",
    "party_key",
    "parties",
    "categories",
    "subject",
    "line_count",
    "chpl_tier",
    "destination_country",
    "source",
    "rules_version",
    "first_seen",
    "last_seen",
    "created_at",
    "suppressed_by",
]
LINE_COLUMNS = [
    "alert_id",
    "declaration_id",
    "line_no",
    "declared_at",
    "hs_code",
    "description",
    "categories",
    "chpl_tier",
    "evidence",
    "screening_hits",
    "origin_country",
    "dispatch_country",
    "destination_country",
    "exporter_name",
    "importer_name",
    "value",
    "currency",
    "rules_version",
]


def alert(alert_id: str, rule: str, severity: str, party: str, dest: str, day: str) -> list:
    parties = json.dumps([{"role": "importer", "name": party, "country": dest}])
    at = f"{day} 10:00:00"
    return [
        alert_id,
        rule,
        severity,
        0.9,
        f"{rule} for {party}",
        party,
        parties,
        ["uav"],
        None,
        1,
        "1",
        dest,
        "demo",
        "r1",
        at,
        at,
        at,
        None,
    ]


ALERTS = [
    alert("a1", "battlefield_goods_to_high_risk", "critical", "OOO Vektor", "RU", "2024-05-02"),
    alert("a2", "chpl_to_high_risk", "high", "Silk Road LLC", "KG", "2024-05-01"),
    alert("a3", "sanctioned_party", "critical", "OOO Vektor", "RU", "2024-04-01"),
]
EVIDENCE = json.dumps(
    [
        {
            "kind": "term",
            "target": "uav",
            "matched": "квадрокоптер",
            "field": "description",
            "language": "ru",
            "text": "Квадрокоптер",
        }
    ]
)
LINES = [
    [
        "a1",
        "D-1",
        1,
        "2024-05-02",
        "8806.21",
        "Квадрокоптер DJI Mavic 3",
        ["uav"],
        "1",
        EVIDENCE,
        "[]",
        "CN",
        "HK",
        "RU",
        "Shenzhen Sky",
        "OOO Vektor",
        1000,
        "USD",
        "r1",
    ]
]


@dataclass
class Harness:
    store: Store
    app: Console
    now: list[datetime] = field(default_factory=lambda: [T0])

    def client(self, base_url: str = "http://testserver") -> TestClient:
        return TestClient(build_app(self.app), base_url=base_url, follow_redirects=False)

    def login(self, user: str, base_url: str = "http://testserver") -> TestClient:
        client = self.client(base_url)
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"username": user, "password": PASSWORDS[user], "csrf": csrf_of(page.text)},
        )
        assert answer.status_code == 303, answer.text
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def version_of(html: str) -> int:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "no version field on the page"
    return int(found.group(1))


def harness(tmp_path: Path, clock: Callable[[], float] | None = None) -> Harness:
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    store.migrate()
    for user, password in PASSWORDS.items():
        add_user(store, user, password, ROLES[user], T0)
    box = Harness(store=store, app=None)  # type: ignore[arg-type]

    def fetch(name: str) -> QueryResult:
        if name == "console_alerts":
            return QueryResult(ALERT_COLUMNS, [list(r) for r in ALERTS])
        return QueryResult(LINE_COLUMNS, [list(r) for r in LINES])

    box.app = Console(
        store=store,
        triage=Triage(store, clock=lambda: box.now[0]),
        alerts=AlertSource(fetch, refresh_s=0),
        limiter=LoginLimiter(3, 60, clock=clock) if clock else LoginLimiter(3, 60),
        session_hours=1,
    )
    return box
