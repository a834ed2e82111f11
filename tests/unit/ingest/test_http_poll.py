"""The HTTP poller against real servers on loopback: redirects, bounds, stuck cursors."""

import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from ingest.connectors.http_poll import HttpPoller, PollSettings
from ingest.errors import SourceUnavailable
from ingest.http_safety import (
    CredentialSafeRedirects,
    RedirectRefused,
    credential_headers,
    parse_headers,
    redacted,
)

Answer = Callable[[BaseHTTPRequestHandler], None]


class Server(ThreadingHTTPServer):
    """Answers each path with its function and keeps the headers of every request."""

    daemon_threads = True

    def __init__(self, host: str, routes: dict[str, Answer]) -> None:
        super().__init__((host, 0), Handler)
        self.routes = routes
        self.seen: list[tuple[str, dict[str, str]]] = []

    def url(self, path: str) -> str:
        return f"http://{self.server_address[0]}:{self.server_address[1]}{path}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))
        self.server.routes[self.path.split("?")[0]](self)

    def log_message(self, *args: object) -> None:
        pass


def send(handler: BaseHTTPRequestHandler, body: bytes, status: int = 200) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def redirect(to: str) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(routes: dict[str, Answer], host: str = "127.0.0.1") -> Server:
        server = Server(host, routes)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


SECRET = {"Authorization": "Bearer s3cret", "X-Api-Key": "k3y"}


def poller(url: str, **options: object) -> HttpPoller:
    poll = PollSettings(url, headers=dict(SECRET), max_attempts=1, **options)  # type: ignore[arg-type]
    return HttpPoller(poll, "http", sleep=lambda _: None)


def page(*records: object) -> Answer:
    return lambda handler: send(handler, orjson.dumps({"records": list(records)}))


def test_a_redirect_to_another_host_carries_none_of_the_callers_headers(
    serve: Callable[..., Server],
) -> None:
    other = serve({"/feed": page({"id": 1})}, host="127.0.0.2")
    origin = serve({"/feed": redirect(other.url("/feed"))})
    assert poller(origin.url("/feed")).fetch(None) == [{"id": 1}]
    assert origin.seen[0][1]["Authorization"] == "Bearer s3cret"
    (_, headers), *_ = other.seen
    assert "Authorization" not in headers and "X-Api-Key" not in headers
    assert headers["Accept"] == "application/json"


def test_a_redirect_on_the_same_origin_keeps_the_headers(serve: Callable[..., Server]) -> None:
    server = serve({"/old": redirect("/new"), "/new": page({"id": 1})})
    assert poller(server.url("/old")).fetch(None) == [{"id": 1}]
    assert [h["Authorization"] for _, h in server.seen] == ["Bearer s3cret"] * 2


@pytest.mark.parametrize("target", ["http://example.test/feed", "ftp://example.test/feed"])
def test_a_downgrade_or_a_foreign_scheme_is_refused(target: str) -> None:
    request = urllib.request.Request("https://feed.test/x", headers=SECRET)
    no_body: Any = None
    with pytest.raises(RedirectRefused):
        CredentialSafeRedirects().redirect_request(
            request, no_body, 302, "Found", HTTPMessage(), target
        )


def test_a_redirect_loop_stops(serve: Callable[..., Server]) -> None:
    server = serve({"/a": redirect("/b"), "/b": redirect("/a")})
    with pytest.raises(SourceUnavailable, match="answered 302"):
        poller(server.url("/a")).fetch(None)
    assert len(server.seen) < 20


def endless(handler: BaseHTTPRequestHandler) -> None:
    """No Content-Length: the body ends when the connection does."""
    handler.send_response(200)
    handler.end_headers()
    for _ in range(64):
        handler.wfile.write(b" " * 65536)


def test_an_answer_over_the_size_limit_stops_the_poller(serve: Callable[..., Server]) -> None:
    big = b"[" + b"1," * 600_000 + b"1]"
    server = serve({"/big": lambda h: send(h, big), "/endless": endless})
    with pytest.raises(SourceUnavailable, match="more than the 1048576"):
        poller(server.url("/big"), max_answer_bytes=1 << 20).fetch(None)
    with pytest.raises(SourceUnavailable, match="larger than the 1048576"):
        poller(server.url("/endless"), max_answer_bytes=1 << 20).fetch(None)


def drip(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    try:
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)
    except OSError:
        pass


def test_an_answer_sent_a_byte_at_a_time_meets_the_deadline(
    serve: Callable[..., Server],
) -> None:
    server = serve({"/slow": drip})
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="gave up after 1 attempts"):
        poller(server.url("/slow"), max_answer_s=0.5).fetch(None)
    assert time.monotonic() - started < 2


def test_an_endpoint_that_ignores_the_cursor_is_published_once_then_stopped(
    serve: Callable[..., Server],
) -> None:
    server = serve({"/feed": page({"id": 1}, {"id": 2})})
    records = poller(server.url("/feed")).records(None, 0)
    assert [orjson.loads(next(records).payload)["id"] for _ in range(2)] == [1, 2]
    with pytest.raises(SourceUnavailable, match="cursor did not move past '2'"):
        next(records)
    assert len(server.seen) == 2


def test_records_without_the_cursor_field_publish_nothing(serve: Callable[..., Server]) -> None:
    server = serve({"/feed": page({"other": 1})})
    with pytest.raises(SourceUnavailable, match="carry 'id'"):
        next(poller(server.url("/feed")).records(None, 0))


def test_a_record_that_is_not_an_object_is_carried_with_the_cursor_before_it(
    serve: Callable[..., Server],
) -> None:
    calls: list[str] = []

    def feed(handler: BaseHTTPRequestHandler) -> None:
        calls.append(handler.path)
        records = [{"id": 1}, [1, 2], "x"] if "since_id" not in handler.path else []
        send(handler, orjson.dumps(records))

    server = serve({"/feed": feed})
    http = poller(server.url("/feed"))
    origin = http.feed(http.records(None, 0))
    records = list(origin.records)
    assert [r.payload for r in records] == [b'{"id":1}', b"[1,2]", b'"x"']
    assert origin.cursor_of is not None
    assert origin.cursor_of(records[-1]) == "1"
    assert calls[-1].endswith("since_id=1")


def test_urls_lose_credentials_and_query_in_messages() -> None:
    assert redacted("https://u:p@feed.test:8443/api/v1?token=t&x=1") == (
        "https://feed.test:8443/api/v1?…"
    )
    assert redacted("http://feed.test/a") == "http://feed.test/a"


def test_headers_from_lines_and_which_are_credentials() -> None:
    headers = parse_headers(
        ["# comment", "", "Authorization: Bearer t", "Accept: json", "X-Api-Key:k"]
    )
    assert headers == {"Authorization": "Bearer t", "Accept": "json", "X-Api-Key": "k"}
    assert credential_headers(headers) == ["Authorization", "X-Api-Key"]
    with pytest.raises(ValueError, match="Name: value"):
        parse_headers(["Authorization Bearer t"])


def test_the_poll_origin_carries_no_credential_and_keeps_two_queries_apart() -> None:

    plain = PollSettings("https://feed.test/v1/lines")
    assert plain.origin == "https://feed.test/v1/lines"
    one = PollSettings("https://u:p@feed.test/v1/lines?token=abc").origin
    two = PollSettings("https://u:p@feed.test/v1/lines?token=xyz").origin
    assert one.startswith("https://feed.test/v1/lines?…#") and one != two
    assert "abc" not in one and "p@" not in one
