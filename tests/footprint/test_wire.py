"""greenweb.footprint.wire: a response's size on the wire, head, body and chunk framing."""

from __future__ import annotations

import asyncio

import pytest

from greenweb.asgi_client import ASGIApp, Captured, Receive, Scope, Send, request
from greenweb.footprint import wire


def raw_app(
    body: bytes, headers: list[tuple[bytes, bytes]], *, chunks: int = 1, status: int = 200
) -> ASGIApp:
    """An ASGI app answering every request with exactly these bytes."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": status, "headers": headers})
        size = -(-len(body) // chunks) if body else 0
        parts = [body[i : i + size] for i in range(0, len(body), size)] if body else [b""]
        for index, part in enumerate(parts):
            more = index < len(parts) - 1
            await send({"type": "http.response.body", "body": part, "more_body": more})

    return app


def test_header_bytes_are_the_http11_status_line_headers_server_date_and_blank_line() -> None:
    app = raw_app(b"ok", [(b"content-type", b"text/plain"), (b"content-length", b"2")])
    got = asyncio.run(request(app, "/"))
    # "HTTP/1.1 200 OK\r\n" 17, "content-type: text/plain\r\n" 26, "content-length: 2\r\n" 19,
    # "date: <29 characters>\r\n" 37, "\r\n" 2.
    assert wire.header_bytes(got) == 17 + 26 + 19 + 37 + 2
    assert wire.wire_bytes(got) == wire.header_bytes(got) + 2
    assert got.body == b"ok"


def test_a_body_without_content_length_pays_chunked_framing() -> None:
    app = raw_app(b"a" * 20, [(b"content-type", b"text/plain")], chunks=2)
    got = asyncio.run(request(app, "/"))
    assert wire.is_chunked(got) and got.chunk_sizes == (10, 10)
    # two chunks of 10 bytes: "a\r\n" + data + "\r\n" each, then "0\r\n\r\n"
    assert wire.framing_bytes(got) == 2 * (1 + 4) + 5
    assert got.header("transfer-encoding") is None  # the server adds it, and we count it
    assert wire.header_bytes(got) == 17 + 26 + 37 + len("transfer-encoding: chunked\r\n") + 2


@pytest.mark.parametrize("status", [204, 304])
def test_a_response_without_body_is_not_chunked(status: int) -> None:
    empty = Captured(status, ((b"etag", b'"x"'),), b"")
    assert not wire.is_chunked(empty) and wire.framing_bytes(empty) == 0


def test_the_head_of_a_response_to_send_is_counted_like_one_sent() -> None:
    # What the footer stamp counts before sending equals what the footprint counts after.
    headers = ((b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"1234"))
    sent = Captured(404, headers, b"x" * 1234)
    assert wire.head_size(headers, 404) == wire.header_bytes(sent)
    assert wire.head_size([], 200) == len(b"HTTP/1.1 200 OK\r\n") + 37 + 2


def test_status_lines_are_counted_as_uvicorn_writes_them() -> None:
    assert wire.status_line_size(200) == len(b"HTTP/1.1 200 OK\r\n")
    assert wire.status_line_size(404) == len(b"HTTP/1.1 404 Not Found\r\n")
    assert wire.status_line_size(599) == len(b"HTTP/1.1 599 \r\n")  # no reason phrase known
