"""greenweb.asgi_client: one request to an ASGI app in-process, answered as it was sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import brotli
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.asgi_client import (
    ASGIApp,
    Captured,
    Receive,
    Scope,
    Send,
    make_scope,
    request,
    running,
)


async def echo_scope(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with what it was asked, in three body messages."""
    parts = [scope["method"].encode(), b" ", scope["path"].encode() + b"?" + scope["query_string"]]
    headers = [(b"Content-Type", b"text/plain"), (b"X-Host", dict(scope["headers"])[b"host"])]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for index, part in enumerate(parts):
        await send({"type": "http.response.body", "body": part, "more_body": index < 2})


def test_a_response_is_captured_as_sent_with_its_chunk_sizes() -> None:
    got = asyncio.run(request(echo_scope, "/bollettino?page=2", base_url="https://h.example"))
    assert (got.status, got.body) == (200, b"GET /bollettino?page=2")
    assert got.chunk_sizes == (3, 1, 18)
    assert got.headers == ((b"Content-Type", b"text/plain"), (b"X-Host", b"h.example"))
    assert got.header("content-type") == got.content_type == "text/plain"
    assert got.header("x-missing") is None
    assert got.cpu_ns >= 0


def test_a_compressed_body_is_not_decoded() -> None:
    body = brotli.compress(b"ciao " * 100)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-encoding", b"br"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    got = asyncio.run(request(app, "/"))
    assert got.body == body and got.content_encoding == "br"
    assert got.header_all("Set-Cookie") == ["a=1", "b=2"]


@pytest.mark.parametrize(("value", "coding"), [(b"identity", None), (b" GZIP ", "gzip")])
def test_content_encoding_identity_means_none(value: bytes, coding: str | None) -> None:
    assert Captured(200, ((b"content-encoding", value),), b"").content_encoding == coding


def test_a_head_request_has_no_body() -> None:
    got = asyncio.run(request(echo_scope, "/", method="HEAD"))
    assert got.status == 200 and got.body == b""


def test_the_scope_is_what_a_server_would_build() -> None:
    scope = make_scope(
        "GET", "/cerca", b"q=bando", [(b"accept", b"*/*")], base_url="http://greenweb.example:8080"
    )
    assert scope["headers"] == [(b"host", b"greenweb.example:8080"), (b"accept", b"*/*")]
    assert scope["server"] == ("greenweb.example", 8080) and scope["scheme"] == "http"
    assert (scope["path"], scope["raw_path"], scope["query_string"]) == (
        "/cerca",
        b"/cerca",
        b"q=bando",
    )
    assert make_scope("GET", "")["path"] == "/"
    assert make_scope("GET", "/", base_url="https://h")["server"] == ("h", 443)


def test_the_client_stays_connected_until_the_whole_response_is_sent() -> None:
    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # the request
        disconnected = asyncio.create_task(receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(3):
            await asyncio.sleep(0)
            if disconnected.done():
                return
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        assert (await disconnected)["type"] == "http.disconnect"

    got = asyncio.run(request(streaming, "/"))
    assert got.body == b"xxx" and got.chunk_sizes == (1, 1, 1)


def broken_app() -> Starlette:
    async def broken(request: Request) -> Response:
        raise ValueError("pagina rotta")

    return Starlette(routes=[Route("/rotta", broken)])


def test_an_error_of_the_app_is_raised() -> None:
    with pytest.raises(ValueError, match="pagina rotta"):
        asyncio.run(request(broken_app(), "/rotta"))


def test_like_a_server_the_client_can_keep_the_error_page_the_app_sent() -> None:
    got = asyncio.run(request(broken_app(), "/rotta", raise_app_errors=False))
    assert got.status == 500 and got.body == b"Internal Server Error"


def test_an_app_that_sends_nothing_is_an_error() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("nothing to say")

    with pytest.raises(RuntimeError, match="GET /: the app failed: ValueError"):
        asyncio.run(request(silent, "/", raise_app_errors=False))

    async def mute(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(RuntimeError, match="GET /: the app sent no response"):
        asyncio.run(request(mute, "/"))


def lifespan_app(events: list[str], *, fail: bool = False) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if fail:
            raise OSError("no database")
        events.append("started")
        yield {"db": "open"}
        events.append("stopped")

    async def page(request: Request) -> Response:
        return Response(request.state.db)

    return Starlette(routes=[Route("/", page)], lifespan=lifespan)


def test_running_starts_and_stops_the_app_and_passes_its_state_on() -> None:
    events: list[str] = []
    app = lifespan_app(events)

    async def visit() -> Captured:
        async with running(app) as state:
            assert events == ["started"] and state == {"db": "open"}
            return await request(app, "/", state=state)

    assert asyncio.run(visit()).body == b"open"
    assert events == ["started", "stopped"]


def test_an_app_that_fails_to_start_is_an_error() -> None:
    async def start(app: ASGIApp) -> None:
        async with running(app):
            raise AssertionError("the app did not start")

    with pytest.raises(OSError, match="no database"):  # what the app raised
        asyncio.run(start(lifespan_app([], fail=True)))

    async def refusing(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(RuntimeError, match="the app failed to start: no database"):
        asyncio.run(start(refusing))
