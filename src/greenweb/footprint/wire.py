"""The size of a response on the wire: status line, headers, body as sent, chunk framing.

Sizes are those of HTTP/1.1 as ``greenweb serve`` writes it: uvicorn, run with
``date_header=True`` and ``server_header=False``, adds one header of its own (``date``)
and, to a body sent without ``Content-Length``, ``transfer-encoding: chunked`` and the
chunk framing. The footer stamp counts a response before it is sent with
:func:`head_size`; the footprint measures what the app sent with :func:`wire_bytes`.
A proxy in front (nginx, a CDN) changes the header bytes by a few dozen.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Final

from greenweb.asgi_client import Captured

# The ``date`` header uvicorn adds to every response: its value is always 29 characters.
SERVER_ADDED_HEADERS: Final = ((b"date", b"Sat, 04 Sep 2021 10:00:00 GMT"),)
CHUNKED: Final = (b"transfer-encoding", b"chunked")
_HEAD_END: Final = len(b"\r\n")


def status_line_size(status: int) -> int:
    """``HTTP/1.1 404 Not Found\\r\\n``: uvicorn's reason phrases are http.HTTPStatus's."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return len(f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1"))


def head_size(
    headers: Iterable[tuple[bytes, bytes]], status: int = 200, *, chunked: bool = False
) -> int:
    """Bytes of a response's head as the server sends it with these app headers.

    ``chunked``: the body has no ``Content-Length``, so the server adds its
    ``transfer-encoding`` header.
    """
    sent = [*headers, *SERVER_ADDED_HEADERS, *([CHUNKED] if chunked else [])]
    return (
        status_line_size(status)
        + sum(len(name) + 2 + len(value) + 2 for name, value in sent)
        + _HEAD_END
    )


def is_chunked(response: Captured) -> bool:
    """Whether the server frames this body in chunks: it has no Content-Length."""
    return response.header("content-length") is None and response.status not in (204, 304)


def header_bytes(response: Captured) -> int:
    """Status line, headers (the app's and the server's) and the blank line."""
    return head_size(response.headers, response.status, chunked=is_chunked(response))


def framing_bytes(response: Captured) -> int:
    """Chunk sizes and terminators when the body has no Content-Length."""
    if not is_chunked(response):
        return 0
    # Each chunk: hex length, CRLF, data, CRLF; then "0\r\n\r\n".  One chunk per message.
    return sum(len(f"{size:x}") + 4 for size in response.chunk_sizes) + 5


def wire_bytes(response: Captured) -> int:
    """Everything this response puts on the wire: head, body as sent, framing."""
    return header_bytes(response) + len(response.body) + framing_bytes(response)
