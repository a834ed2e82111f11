"""Outbound HTTP that leaks no credential and reads a bounded answer in a bounded time.

urllib follows redirects and copies every header the caller set (``Authorization``,
``Cookie``, an API-key header) to the new address, whichever host it names and even from
https to http. :func:`opener` builds a urllib opener whose redirects:

- stay on the same origin (scheme, host, port) with every header;
- go to another origin without the caller's headers (only ``Accept`` and ``User-Agent``);
- are refused from https to http and to anything but http(s); urllib stops after
  ``MAX_REDIRECTS``.

:func:`read_bounded` reads an answer up to a size and a deadline, so a huge or endless body
(or one sent a byte at a time) cannot hold the poller.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from http.client import HTTPMessage
from typing import IO, Any

MAX_REDIRECTS = 5
KEPT_ACROSS_ORIGINS = frozenset({"accept", "user-agent"})
CHUNK_BYTES = 64 * 1024


class RedirectRefused(Exception):
    """A redirect the poller will not follow (downgrade, foreign scheme)."""


class AnswerTooLarge(Exception):
    """The body is larger than the poller accepts."""


class AnswerTooSlow(TimeoutError):
    """The body did not arrive within the deadline."""


def redacted(url: str) -> str:
    """``url`` without user, password and query: safe to log or put in an error."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = "?…" if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")) + query


CREDENTIAL_HINTS = ("authorization", "cookie", "api-key", "apikey", "token", "secret", "password")


def parse_headers(lines: list[str]) -> dict[str, str]:
    """``Name: value`` lines into headers; blank lines and ``#`` comments are skipped, a
    line without a colon is refused (a typo would otherwise drop a credential silently)."""
    headers: dict[str, str] = {}
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"not a 'Name: value' header: {line[:40]!r}")
        headers[name.strip()] = value.strip()
    return headers


def credential_headers(headers: dict[str, str]) -> list[str]:
    """The names among ``headers`` that look like credentials."""
    return [name for name in headers if any(h in name.lower() for h in CREDENTIAL_HINTS)]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class CredentialSafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only where the caller's headers cannot leak (module docstring)."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old, new = _origin(req.full_url), _origin(newurl)
        if new[0] not in ("http", "https"):
            raise RedirectRefused(f"redirect to a {new[0]!r} address refused")
        if old[0] == "https" and new[0] == "http":
            raise RedirectRefused(f"redirect from https to http ({redacted(newurl)}) refused")
        follow = super().redirect_request(req, fp, code, msg, headers, newurl)
        if follow is not None and new != old:
            follow.headers = {
                k: v for k, v in follow.headers.items() if k.lower() in KEPT_ACROSS_ORIGINS
            }
            follow.unredirected_hdrs = {}
        return follow


def opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(CredentialSafeRedirects())


def read_bounded(answer: Any, max_bytes: int, deadline: float) -> bytes:
    """The whole body of ``answer``, refused past ``max_bytes`` or the monotonic
    ``deadline`` (each read also waits at most the socket timeout)."""
    length = answer.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise AnswerTooLarge(f"answer of {length} bytes, more than the {max_bytes} accepted")
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise AnswerTooSlow("the answer did not arrive in time")
        # read1: what has arrived, so a body sent a byte at a time meets the deadline
        chunk = answer.read1(min(CHUNK_BYTES, max_bytes + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise AnswerTooLarge(f"answer larger than the {max_bytes} bytes accepted")
