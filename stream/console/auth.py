"""Logins: argon2 password hashes, server-side sessions, CSRF tokens, a login rate limit,
and the refusal to listen off loopback without TLS or a trusted proxy."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from schemas.errors import TerminalError
from schemas.settings import ConsoleSettings
from stream.console.store import Store
from stream.console.workflow import ROLES, Actor
from stream.warehouse.web import is_loopback

_hasher = PasswordHasher()
# verified against when the user does not exist, so both paths cost one argon2 hash
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
MIN_PASSWORD = 8


class ConsoleExposed(TerminalError):
    """The console would listen beyond loopback in clear text."""


def check_exposure(console: ConsoleSettings) -> None:
    tls = console.tls_certfile is not None and console.tls_keyfile is not None
    if is_loopback(console.host) or tls or console.trusted_proxy:
        return
    raise ConsoleExposed(
        f"the console would listen on {console.host}, not a loopback address, without TLS: "
        "set CUSTOMS_WATCH_CONSOLE_TLS_CERTFILE and _TLS_KEYFILE, or "
        "CUSTOMS_WATCH_CONSOLE_TRUSTED_PROXY to the address of a TLS-terminating proxy, or "
        "listen on 127.0.0.1"
    )


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def add_user(store: Store, username: str, password: str, role: str, now: datetime) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError("a user name is letters, digits, '-', '_' or '.'")
    store.add_user(username, hash_password(password), role, now)


def verify(store: Store, username: str, password: str) -> Actor | None:
    user = store.user(username)
    try:
        _hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user["password_hash"]):
        store.set_password_hash(username, _hasher.hash(password))
    return Actor(user["username"], user["role"])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    actor: Actor
    csrf: str
    token_hash: str


def open_session(store: Store, actor: Actor, now: datetime, hours: float) -> tuple[str, Session]:
    """A new random session token (the cookie; only its hash is stored) and CSRF token."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    store.add_session(token_hash(token), actor.username, csrf, now + timedelta(hours=hours))
    return token, Session(actor, csrf, token_hash(token))


def find_session(store: Store, token: str | None, now: datetime) -> Session | None:
    if not token:
        return None
    row = store.session(token_hash(token), now)
    if row is None:
        return None
    return Session(Actor(row["username"], row["role"]), row["csrf"], row["token_hash"])


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


class LoginLimiter:
    """At most ``attempts`` failed logins per user name and per client address within
    ``window_s``; past that, logins are refused (even right ones) until the window slides."""

    def __init__(
        self, attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self.clock = clock
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        times = self.failures[key]
        while times and times[0] <= self.clock() - self.window_s:
            times.popleft()
        return times

    def blocked(self, username: str, client: str) -> bool:
        keys = (f"user:{username}", f"client:{client}")
        return any(len(self._recent(k)) >= self.attempts for k in keys)

    def failed(self, username: str, client: str) -> None:
        for key in (f"user:{username}", f"client:{client}"):
            self._recent(key).append(self.clock())
