"""Oversized and malformed requests are refused before any of the app reads them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.middleware.limits import (
    DEFAULT_MAX_URL_BYTES,
    RequestLimitsMiddleware,
    body_checked,
    valid_url_part,
    valid_urlencoded,
)
from support.board import Clock, ask, board_client

LIMIT = 1024


@dataclass
class Recorder:
    """An inner app that records whether it ran and which body it was given."""

    called: bool = False
    body: bytes | None = None
    later: list[Message] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        request = Request(scope, receive)
        self.body = await request.body()
        await PlainTextResponse("ok")(scope, receive, send)


@dataclass
class Exchange:
    status: int
    headers: dict[bytes, bytes]
    body: bytes
    reads: int  # how many body messages the middleware took from the client


def run(
    messages: list[Message],
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "POST",
    raw_path: bytes = b"/form",
    query: bytes = b"",
    app: Any = None,
    max_url_bytes: int = DEFAULT_MAX_URL_BYTES,
) -> tuple[Exchange, Recorder]:
    inner = app or Recorder()
    middleware = RequestLimitsMiddleware(inner, max_body_bytes=LIMIT, max_url_bytes=max_url_bytes)
    queue = list(messages)
    sent: list[Message] = []
    reads = 0

    async def receive() -> Message:
        nonlocal reads
        if queue:
            reads += 1
            return queue.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": method,
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query,
        "headers": headers or [],
    }
    asyncio.run(middleware(scope, receive, send))
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    exchange = Exchange(
        status=start["status"] if start else 0,
        headers=dict(start["headers"]) if start else {},
        body=body,
        reads=reads,
    )
    return exchange, inner


def chunk(body: bytes, more: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


def length(n: int | str) -> list[tuple[bytes, bytes]]:
    return [(b"content-length", str(n).encode())]


# --- bodies ---------------------------------------------------------------------------


def test_declared_length_over_the_limit_is_refused_without_reading_the_body() -> None:
    exchange, inner = run([chunk(b"x" * 2000)], headers=length(2000))
    assert exchange.status == 413
    assert not inner.called
    assert exchange.reads == 0
    assert exchange.headers[b"connection"] == b"close"
    assert b"1 KB" in exchange.body


def test_body_at_the_limit_reaches_the_app_whole() -> None:
    exchange, inner = run([chunk(b"y" * LIMIT)], headers=length(LIMIT))
    assert exchange.status == 200
    assert inner.body == b"y" * LIMIT


@pytest.mark.parametrize(
    "value", [b"abc", b"-1", b"1e3", b"12 34", b"0x10", b"", b"+5", b"9" * 19, "١٢".encode()]
)
def test_malformed_content_length_is_refused(value: bytes) -> None:
    exchange, inner = run([chunk(b"")], headers=[(b"content-length", value)])
    assert exchange.status == 400
    assert not inner.called


def test_conflicting_content_lengths_are_refused() -> None:
    exchange, inner = run([chunk(b"ab")], headers=length(2) + length(3))
    assert exchange.status == 400
    assert not inner.called


def test_repeated_equal_content_lengths_are_accepted() -> None:
    exchange, inner = run([chunk(b"ab")], headers=length(2) + length(2))
    assert exchange.status == 200
    assert inner.body == b"ab"


def test_chunked_body_over_the_limit_is_refused_as_soon_as_it_passes_it() -> None:
    chunks = [chunk(b"z" * 300, more=True) for _ in range(10)] + [chunk(b"")]
    exchange, inner = run(chunks, headers=[(b"transfer-encoding", b"chunked")])
    assert exchange.status == 413
    assert not inner.called
    # 4 x 300 bytes passes 1024: the rest of the body is never read.
    assert exchange.reads == 4


def test_chunked_body_within_the_limit_is_replayed_to_the_app() -> None:
    chunks = [chunk(b"a" * 300, more=True), chunk(b"b" * 300, more=True), chunk(b"c")]
    exchange, inner = run(chunks, headers=[(b"transfer-encoding", b"chunked")])
    assert exchange.status == 200
    assert inner.body == b"a" * 300 + b"b" * 300 + b"c"


def test_client_gone_while_sending_the_body_runs_nothing() -> None:
    exchange, inner = run(
        [chunk(b"a", more=True), {"type": "http.disconnect"}],
        headers=[(b"transfer-encoding", b"chunked")],
    )
    assert exchange.status == 0
    assert not inner.called


def test_after_the_replayed_body_the_app_hears_the_disconnect() -> None:
    heard: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        heard.append(await receive())
        heard.append(await receive())
        await PlainTextResponse("ok")(scope, receive, send)

    run([chunk(b"abc")], headers=length(3), app=app)
    assert heard == [chunk(b"abc"), {"type": "http.disconnect"}]


def test_request_without_body_is_passed_through_untouched() -> None:
    exchange, inner = run([chunk(b"")], method="GET")
    assert exchange.status == 200
    assert inner.body == b""


FORM = [(b"content-type", b"application/x-www-form-urlencoded; charset=utf-8")]


@pytest.mark.parametrize(
    "body",
    [
        b"testo=%FF",
        b"testo=%C3%28",
        b"testo=..%C0%AF",
        b"testo=%ED%A0%80",  # a UTF-16 surrogate, not a character
        b"testo=a%00b",
        b"%FF=valore",
        "testo=caffè".encode(),  # raw UTF-8: browsers percent-encode, so this is not one
        b"testo=\xff",
    ],
)
def test_form_body_with_broken_encoding_is_refused(body: bytes) -> None:
    exchange, inner = run([chunk(body)], headers=FORM + length(len(body)))
    assert exchange.status == 400
    assert not inner.called


def test_form_body_in_utf8_reaches_the_app() -> None:
    body = b"testo=Il+caff%C3%A8+%C3%A8+%E2%80%9Cclima%E2%80%9D+%F0%9F%8C%8D&nome="
    exchange, inner = run([chunk(body)], headers=FORM + length(len(body)))
    assert exchange.status == 200
    assert inner.body == body


@pytest.mark.parametrize(
    "types",
    [
        [b"text/plain", b"application/x-www-form-urlencoded"],
        [b"application/x-www-form-urlencoded", b"text/plain"],
        [b"application/x-www-form-urlencoded", b"application/x-www-form-urlencoded"],
    ],
)
def test_two_content_types_are_refused(types: list[bytes]) -> None:
    # This layer and the app could each believe another one, and the app would then parse
    # a form body whose encoding nobody checked (a%00b would reach a view).
    body = b"testo=a%00b"
    headers = [(b"content-type", value) for value in types] + length(len(body))
    exchange, inner = run([chunk(body)], headers=headers)
    assert exchange.status == 400
    assert "più di un tipo di contenuto" in exchange.body.decode()
    assert not inner.called


def test_requests_let_through_are_marked_as_checked() -> None:
    seen: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(body_checked(scope))
        await PlainTextResponse("ok")(scope, receive, send)

    run([chunk(b"a=1")], headers=FORM + length(3), app=app)
    run([chunk(b"")], method="GET", app=app)
    assert seen == [True, True]


def test_other_body_types_are_not_decoded() -> None:
    body = b"\xff\xfe binary"
    headers = [(b"content-type", b"application/octet-stream")] + length(len(body))
    exchange, inner = run([chunk(body)], headers=headers)
    assert exchange.status == 200
    assert inner.body == body


# --- URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_path", "query"),
    [
        (b"/cerca", b"q=%FF"),
        (b"/cerca", b"q=a%00b"),
        (b"/cerca", b"q=%0D%0ASet-Cookie:%20x=1"),
        (b"/cerca", b"q=%1B[31m"),
        (b"/cerca", b"q=\xff"),
        (b"/static/..%C0%AFpyproject.toml", b""),
        (b"/bollettino/%00", b""),
        (b"/bollettino/a%0Ab", b""),
        (b"/bollettino/\xc3\x28", b""),
        (b"/%ED%A0%80", b""),
    ],
)
def test_url_with_invalid_utf8_or_control_characters_is_refused(
    raw_path: bytes, query: bytes
) -> None:
    exchange, inner = run([chunk(b"")], method="GET", raw_path=raw_path, query=query)
    assert exchange.status == 400
    assert not inner.called


@pytest.mark.parametrize(
    ("raw_path", "query"),
    [
        (b"/cerca", b"q=caff%C3%A8"),
        (b"/cerca", b"q=%E2%80%AEevil"),  # bidi override: odd, but a character
        (b"/cerca", b"q=%25FF"),  # an escaped percent sign, not an escape
        (b"/cerca", b"q=100%"),
        (b"/bollettino/l%27ora", b""),
    ],
)
def test_url_with_valid_characters_passes(raw_path: bytes, query: bytes) -> None:
    exchange, inner = run([chunk(b"")], method="GET", raw_path=raw_path, query=query)
    assert exchange.status == 200
    assert inner.called


def test_url_over_the_length_limit_is_refused_with_414() -> None:
    at_limit = b"q=" + b"a" * 98
    exchange, _ = run([chunk(b"")], method="GET", raw_path=b"/", query=at_limit, max_url_bytes=101)
    assert exchange.status == 200
    exchange, inner = run(
        [chunk(b"")], method="GET", raw_path=b"/", query=at_limit + b"a", max_url_bytes=101
    )
    assert exchange.status == 414
    assert not inner.called


def test_valid_url_part_fast_path_and_slow_path_agree() -> None:
    assert valid_url_part(b"/bollettino/horizon-europe")
    assert valid_url_part(b"/cerca%20clima")
    assert not valid_url_part(b"/a\x7f")
    assert not valid_url_part(b"/a%7F")


def test_valid_urlencoded_accepts_what_browsers_send() -> None:
    assert valid_urlencoded(b"a=1&b=%C3%A8&c=+")
    assert valid_urlencoded(b"")
    assert not valid_urlencoded(b"a=%00")


def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    middleware = RequestLimitsMiddleware(app, max_body_bytes=LIMIT)

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        pass

    asyncio.run(middleware({"type": "lifespan"}, receive, send))
    assert seen == ["lifespan"]


# --- through the whole app ----------------------------------------------------------


async def echo_POST(request: Request) -> Response:
    form = await request.form()
    return PlainTextResponse(str(form.get("testo", "")))


@pytest.fixture
def app_client(seeded_settings: Settings) -> Iterator[TestClient]:
    app = create_app(seeded_settings)
    app.router.routes.append(Route("/eco", echo_POST, methods=["POST"]))
    with TestClient(app) as test_client:
        yield test_client


def test_oversized_form_gets_the_italian_413_page(app_client: TestClient) -> None:
    response = app_client.post("/eco", data={"testo": "a" * 40_000})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "Richiesta troppo grande" in response.text
    assert "il limite è 32 KB" in response.text
    assert response.headers["connection"] == "close"


def test_form_within_the_limit_is_parsed(app_client: TestClient) -> None:
    response = app_client.post("/eco", data={"testo": "caffè ☕"})
    assert response.status_code == 200
    assert response.text == "caffè ☕"


def test_form_with_invalid_utf8_gets_the_italian_400_page(app_client: TestClient) -> None:
    response = app_client.post(
        "/eco",
        content=b"testo=%FF%FE",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert "non sono codificati correttamente" in response.text


def test_limit_follows_the_setting(seeded_settings: Settings) -> None:
    from dataclasses import replace

    app = create_app(replace(seeded_settings, max_body_bytes=2048))
    app.router.routes.append(Route("/eco", echo_POST, methods=["POST"]))
    with TestClient(app) as client:
        assert client.post("/eco", data={"testo": "a" * 2000}).status_code == 200
        assert client.post("/eco", data={"testo": "a" * 2100}).status_code == 413


@pytest.mark.parametrize(("limit", "status"), [(32 * 1024, 413), (64 * 1024, 422)])
def test_the_board_forms_follow_the_one_body_limit(
    seeded_settings: Settings, limit: int, status: int
) -> None:
    """40 KB of question: refused by the request limits at 32 KB; with the limit raised
    the form parses it and says the question is too long (read_form once had its own,
    fixed 32 KB cap, so raising GREENWEB_MAX_BODY_BYTES did nothing for forms)."""
    from dataclasses import replace

    clock = Clock()
    with board_client(replace(seeded_settings, max_body_bytes=limit), clock) as client:
        response = ask(client, clock, "x" * 40_000)
    assert response.status_code == status
    if status == 422:
        assert "La domanda è troppo lunga" in response.text


def test_read_form_refuses_to_run_without_the_request_limits() -> None:
    from greenweb.web.forms import read_form

    async def endpoint(request: Request) -> Response:
        await read_form(request)
        return PlainTextResponse("parsed")

    bare = Starlette(routes=[Route("/form", endpoint, methods=["POST"])])
    with TestClient(bare, raise_server_exceptions=True) as client:
        with pytest.raises(RuntimeError, match="RequestLimitsMiddleware"):
            client.post("/form", data={"a": "1"})


def test_long_url_gets_the_italian_414_page(app_client: TestClient) -> None:
    response = app_client.get("/cerca", params={"q": "a" * DEFAULT_MAX_URL_BYTES})
    assert response.status_code == 414
    assert "Indirizzo troppo lungo" in response.text


def test_invalid_url_gets_the_italian_400_page(app_client: TestClient) -> None:
    response = app_client.get("/cerca?q=%C0%AF")
    assert response.status_code == 400
    assert "caratteri non validi" in response.text
