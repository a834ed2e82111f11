"""The console's web application (Starlette, server-rendered Jinja templates, one small
script for polling). Every page and API needs a session; every POST needs the session's
CSRF token (the login form a double-submit cookie); cookies are HttpOnly, SameSite=Strict,
and Secure whenever the request came over HTTPS (directly, or through the trusted proxy)."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from stream.console import auth, workflow
from stream.console.alerts import AlertSource, Book, highlight
from stream.console.auth import LoginLimiter, Session
from stream.console.service import AlertRef, Triage
from stream.console.store import AlertState, Conflict, Store
from stream.console.workflow import Refused

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "cw_session"
LOGIN_COOKIE = "cw_login_csrf"
FILTERS = ("rule", "severity", "status", "assignee", "destination", "party", "from", "to")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request, Session], Awaitable[Response]]


@dataclass(slots=True)
class Console:
    store: Store
    triage: Triage
    alerts: AlertSource
    limiter: LoginLimiter
    session_hours: float
    poke: Callable[[], None] = lambda: None

    def now(self) -> datetime:
        return self.triage.clock()


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
    )
    env.globals["STATUSES"] = workflow.STATUSES
    env.globals["OUTCOMES"] = workflow.OUTCOMES
    env.filters["label"] = lambda v: str(v).replace("_", " ") if v else ""
    return env


ENV = _env()


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(ENV.get_template(name).render(**context), status_code=status)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def matches(alert: dict[str, Any], state: AlertState, f: dict[str, str]) -> bool:
    status = f.get("status") or "open"
    if status == "open" and state.status == "closed":
        return False
    if status not in ("open", "all") and state.status != status:
        return False
    for key, value in (("rule", alert["rule"]), ("severity", alert["severity"])):
        if f.get(key) and f[key] != value:
            return False
    if f.get("assignee") and f["assignee"] != (state.assignee or ""):
        return False
    if f.get("destination") and f["destination"].upper() != (alert["destination_country"] or ""):
        return False
    if f.get("party") and f["party"].casefold() not in alert["party_key"].casefold():
        return False
    day = alert.get("day")
    try:
        if f.get("from") and (day is None or day < date.fromisoformat(f["from"])):
            return False
        if f.get("to") and (day is None or day > date.fromisoformat(f["to"])):
            return False
    except ValueError:
        return False
    return True


def queue_of(book: Book, states: dict[str, AlertState], f: dict[str, str]) -> dict[str, Any]:
    rows = []
    by_status: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    for alert in book.alerts:
        state = states.get(alert["alert_id"]) or AlertState(alert["alert_id"])
        if matches(alert, state, {**f, "status": "all"}):
            by_status[state.status] += 1
        if matches(alert, state, f):
            by_severity[alert["severity"]] += 1
            rows.append((alert, state))
    return {
        "rows": rows,
        "by_status": by_status,
        "by_severity": by_severity,
        "rules": sorted({a["rule"] for a in book.alerts}),
        "severities": sorted({a["severity"] for a in book.alerts}),
        "newest": book.alerts[0]["alert_id"] if book.alerts else "",
    }


def build_app(console: Console, static_dir: Path = HERE / "static") -> Starlette:
    def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="strict",
            secure=is_https(request),
            path="/",
            max_age=int(console.session_hours * 3600),
        )

    def guarded(handler: Handler, write: bool = False, api: bool = False) -> Any:
        async def endpoint(request: Request) -> Response:
            session = await run_in_threadpool(
                auth.find_session, console.store, request.cookies.get(SESSION_COOKIE), console.now()
            )
            if session is None:
                if api:
                    return JSONResponse({"error": "log in first"}, status_code=401)
                target = urlencode(
                    {
                        "next": request.url.path
                        + ("?" + request.url.query if request.url.query else "")
                    }
                )
                return RedirectResponse(f"/login?{target}", status_code=303)
            if write:
                form = await request.form()
                given = form.get("csrf")
                if not auth.csrf_ok(session.csrf, given if isinstance(given, str) else None):
                    return render(
                        "error.html",
                        403,
                        session=session,
                        message="refused: missing or wrong CSRF token; reload the page",
                    )
            response = await handler(request, session)
            for key, value in HEADERS.items():
                response.headers.setdefault(key, value)
            return response

        return endpoint

    async def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        response = render(
            "login.html", csrf=token, error="", next=request.query_params.get("next", "/")
        )
        set_cookie(response, request, LOGIN_COOKIE, token)
        return response

    async def login(request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        nxt = str(form.get("next", "/"))
        nxt = nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"
        client = request.client.host if request.client else "unknown"
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not auth.csrf_ok(expected, str(form.get("csrf", ""))):
            return render(
                "login.html",
                403,
                csrf=expected,
                error="refused: missing or wrong CSRF token; reload the page",
                next=nxt,
            )
        if console.limiter.blocked(username, client):
            return render(
                "login.html",
                429,
                csrf=expected,
                error="too many failed logins; wait a few minutes",
                next=nxt,
            )
        actor = await run_in_threadpool(auth.verify, console.store, username, password)
        if actor is None:
            console.limiter.failed(username, client)
            return render(
                "login.html", 401, csrf=expected, error="wrong user name or password", next=nxt
            )
        token, _ = await run_in_threadpool(
            auth.open_session, console.store, actor, console.now(), console.session_hours
        )
        response = RedirectResponse(nxt, status_code=303)
        set_cookie(response, request, SESSION_COOKIE, token)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    async def logout(request: Request, session: Session) -> Response:
        console.store.drop_session(session.token_hash)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def filters_of(request: Request) -> dict[str, str]:
        return {k: request.query_params[k] for k in FILTERS if request.query_params.get(k)}

    async def queue_data(request: Request) -> tuple[dict[str, str], dict[str, Any]]:
        f = filters_of(request)
        book = await run_in_threadpool(console.alerts.book)
        return f, queue_of(book, console.store.states(), f)

    async def queue(request: Request, session: Session) -> Response:
        f, data = await queue_data(request)
        users = console.store.usernames()
        return render("queue.html", session=session, f=f, users=users, query=urlencode(f), **data)

    async def queue_rows(request: Request, session: Session) -> Response:
        _f, data = await queue_data(request)
        response = render("rows.html", session=session, **data)
        response.headers["X-Newest"] = data["newest"]
        return response

    async def api_queue(request: Request, session: Session) -> Response:
        f, data = await queue_data(request)
        rows = [
            {
                "alert_id": a["alert_id"],
                "rule": a["rule"],
                "severity": a["severity"],
                "party": a["party_key"],
                "status": s.status,
                "assignee": s.assignee,
                "version": s.version,
            }
            for a, s in data["rows"]
        ]
        return JSONResponse({"filters": f, "count": len(rows), "alerts": rows})

    async def alert_page(
        request: Request, session: Session, message: str = "", status: int = 200
    ) -> Response:
        alert_id = request.path_params["alert_id"]
        book = await run_in_threadpool(console.alerts.book)
        alert = book.get(alert_id)
        if alert is None:
            return render("error.html", 404, session=session, message=f"no alert {alert_id}")
        states = console.store.states()
        lines = [
            {**line, "pieces": highlight(line["description"] or "", line["evidence"])}
            for line in book.lines.get(alert_id, [])
        ]
        others = [
            (a, states.get(a["alert_id"]) or AlertState(a["alert_id"]))
            for a in book.alerts
            if a["party_key"] == alert["party_key"] and a["alert_id"] != alert_id
        ]
        pending = [
            s
            for s in console.store.suppressions()
            if s["party_key"] == alert["party_key"] and s["rule"] == alert["rule"]
        ]
        return render(
            "alert.html",
            status,
            session=session,
            alert=alert,
            state=states.get(alert_id) or AlertState(alert_id),
            lines=lines,
            others=others,
            trail=console.store.trail(alert_id),
            suppressions=pending,
            users=console.store.usernames(),
            message=message,
        )

    def ref(alert: dict[str, Any]) -> AlertRef:
        return AlertRef(alert["alert_id"], alert["rule"], alert["party_key"])

    def act(alert: AlertRef, session: Session, form: Any) -> str:
        """Run one action from a form; returns a message for the page."""
        action = str(form.get("action", ""))
        seen = int(str(form.get("version", "-1")) or -1)
        actor = session.actor
        t = console.triage
        if action == "claim":
            t.claim(alert, actor, seen)
        elif action == "assign":
            t.assign(alert, actor, seen, str(form.get("assignee", "")))
        elif action == "status":
            t.set_status(alert, actor, seen, str(form.get("status", "")))
        elif action == "close":
            t.close(alert, actor, seen, str(form.get("outcome", "")), str(form.get("comment", "")))
        elif action == "reopen":
            t.reopen(alert, actor, seen)
        elif action == "comment":
            t.comment(alert, actor, str(form.get("comment", "")))
        elif action == "suppress":
            try:
                days = int(str(form.get("days", "")))
            except ValueError as exc:
                raise Refused("days must be a whole number") from exc
            t.request_suppression(alert, actor, days, str(form.get("reason", "")))
        else:
            raise Refused(f"unknown action {action!r}")
        console.poke()
        return f"{action}: done"

    async def alert_action(request: Request, session: Session) -> Response:
        book = await run_in_threadpool(console.alerts.book)
        alert = book.get(request.path_params["alert_id"])
        if alert is None:
            return render("error.html", 404, session=session, message="no such alert")
        form = await request.form()
        try:
            await run_in_threadpool(act, ref(alert), session, form)
        except Conflict as exc:
            return await alert_page(request, session, f"not done: {exc}", 409)
        except Refused as exc:
            code = 403 if not session.actor.can_act or "lead" in str(exc) else 400
            return await alert_page(request, session, f"not done: {exc}", code)
        return RedirectResponse(f"/alerts/{alert['alert_id']}", status_code=303)

    async def bulk(request: Request, session: Session) -> Response:
        form = await request.form()
        book = await run_in_threadpool(console.alerts.book)
        done, failed = 0, []
        for item in form.getlist("pick"):
            alert_id, _, version = str(item).partition(":")
            alert = book.get(alert_id)
            if alert is None:
                failed.append(f"{alert_id}: not found")
                continue
            fields = {**{k: v for k, v in form.items() if k != "pick"}, "version": version}
            try:
                await run_in_threadpool(act, ref(alert), session, fields)
                done += 1
            except (Conflict, Refused) as exc:
                failed.append(f"{alert_id[:8]}: {exc}")
        back = str(form.get("back", "/"))
        back = back if back.startswith("/") and not back.startswith("//") else "/"
        status = 200 if not failed else (403 if not session.actor.can_act else 409)
        return render("bulk.html", status, session=session, done=done, failed=failed, back=back)

    async def suppressions_page(request: Request, session: Session) -> Response:
        return render(
            "suppressions.html",
            session=session,
            rows=console.store.suppressions(),
            message=request.query_params.get("msg", ""),
        )

    async def decide(request: Request, session: Session) -> Response:
        form = await request.form()
        sid = int(request.path_params["sid"])
        approve = form.get("decision") == "approve"
        try:
            await run_in_threadpool(console.triage.decide_suppression, sid, session.actor, approve)
        except (Conflict, Refused) as exc:
            return render(
                "suppressions.html",
                403,
                session=session,
                rows=console.store.suppressions(),
                message=f"not done: {exc}",
            )
        console.poke()
        return RedirectResponse("/suppressions", status_code=303)

    async def audit(request: Request, session: Session) -> Response:
        return render("audit.html", session=session, trail=console.store.trail(limit=500))

    async def api_suppressions(request: Request, session: Session) -> Response:
        active = console.store.active_suppressions(console.now())
        return JSONResponse([s.model_dump(mode="json") for s in active])

    async def show_alert(request: Request, session: Session) -> Response:
        return await alert_page(request, session)

    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", guarded(logout, write=True), methods=["POST"]),
        Route("/", guarded(queue), methods=["GET"]),
        Route("/queue/rows", guarded(queue_rows), methods=["GET"]),
        Route("/api/queue", guarded(api_queue, api=True), methods=["GET"]),
        Route("/api/suppressions", guarded(api_suppressions, api=True), methods=["GET"]),
        Route("/alerts/{alert_id}", guarded(show_alert), methods=["GET"]),
        Route("/alerts/{alert_id}", guarded(alert_action, write=True), methods=["POST"]),
        Route("/bulk", guarded(bulk, write=True), methods=["POST"]),
        Route("/suppressions", guarded(suppressions_page), methods=["GET"]),
        Route("/suppressions/{sid:int}", guarded(decide, write=True), methods=["POST"]),
        Route("/audit", guarded(audit), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=static_dir), name="static"),
    ]
    return Starlette(routes=routes)
