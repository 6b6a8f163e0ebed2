"""Refuse malformed or oversized requests before any of greenweb sees them.

A pure ASGI middleware, placed before everything that could read a body:

- a URL longer than ``max_url_bytes`` gets 414;
- a path or query string that, percent-decoded, is not valid UTF-8 or holds a control
  character (NUL, CR, LF, ...) gets 400. No page of greenweb takes such a value, and
  refusing it here means no view, log line or ``Location`` header can ever carry one;
- a ``Content-Length`` that is not one decimal number gets 400; one over
  ``max_body_bytes`` gets 413 at once, without reading a byte of the body;
- a body without a length (chunked) is read up to the limit and refused with 413 as
  soon as it passes it;
- two ``Content-Type`` headers get 400: this layer and the app could read different ones;
- a urlencoded form body whose fields are not valid UTF-8 or hold NUL gets 400
  (Starlette's form parser would silently turn those bytes into U+FFFD or mojibake).

This is the only size limit: ``web/forms.py`` parses forms and trusts what is checked
here (``body_checked`` tells it this middleware ran).

Bodies within the limit are read whole here and replayed to the app: the limit is small
(32 KB by default), greenweb takes no uploads, and so the parsers downstream only ever
see a body that has already been counted and checked.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenweb.web.errors import error_page

DEFAULT_MAX_URL_BYTES = 4096

# Any byte that needs a closer look: a percent escape, a control character, non-ASCII.
_SUSPECT = re.compile(rb"[%\x00-\x1f\x7f\x80-\xff]")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_DIGITS = re.compile(rb"[0-9]{1,18}")

BAD_URL = "L'indirizzo contiene caratteri non validi."
LONG_URL = "L'indirizzo è troppo lungo."
BAD_LENGTH = "La lunghezza dichiarata dei dati inviati non è valida."
BAD_FORM = "I dati del modulo non sono codificati correttamente."
BAD_CONTENT_TYPE = "La richiesta dichiara più di un tipo di contenuto."

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# Set in the scope of every HTTP request this middleware let through.
CHECKED = "greenweb.request_limits"


def media_type(content_type: str) -> str:
    """``"Application/X-WWW-Form-Urlencoded; charset=utf-8"`` -> the bare, lowercase type."""
    return content_type.split(";", 1)[0].strip().lower()


def body_checked(scope: Scope) -> bool:
    """True when the request went through RequestLimitsMiddleware (size, encoding)."""
    return bool(scope.get(CHECKED))


def too_large_message(limit: int) -> str:
    size = f"{limit // 1024} KB" if limit >= 1024 else f"{limit} byte"
    return f"I dati inviati sono troppo grandi: il limite è {size}."


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def valid_url_part(raw: bytes) -> bool:
    """True when ``raw``, percent-decoded, is UTF-8 without control characters."""
    if _SUSPECT.search(raw) is None:
        return True
    decoded = unquote_to_bytes(raw)
    return _CONTROL.search(decoded) is None and _utf8(decoded)


def valid_urlencoded(body: bytes) -> bool:
    """A form body as browsers send it: ASCII on the wire, UTF-8 and no NUL once decoded."""
    if not body.isascii():
        return False
    decoded = unquote_to_bytes(body)
    return b"\x00" not in decoded and _utf8(decoded)


class _Framing:
    """What the request headers say about its body."""

    __slots__ = ("length", "chunked", "content_type", "problem")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.length: int | None = None
        self.chunked = False
        self.content_type: str | None = None
        self.problem: str | None = None
        for name, value in headers:
            if name == b"content-length":
                stripped = value.strip(b" \t")
                if _DIGITS.fullmatch(stripped) is None:
                    # Too many digits counts as malformed too: no honest body is that big.
                    self.problem = BAD_LENGTH
                    continue
                length = int(stripped)
                if self.length is not None and self.length != length:
                    self.problem = BAD_LENGTH
                self.length = length
            elif name == b"transfer-encoding":
                self.chunked = True
            elif name == b"content-type":
                if self.content_type is not None:
                    self.problem = BAD_CONTENT_TYPE
                self.content_type = value.decode("latin-1")

    @property
    def urlencoded(self) -> bool:
        return self.content_type is not None and media_type(self.content_type) == FORM_MEDIA_TYPE

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.length)


class _BodyTooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class RequestLimitsMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, max_url_bytes: int = DEFAULT_MAX_URL_BYTES
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_url_bytes = max_url_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "replace")
        query: bytes = scope.get("query_string", b"")
        if len(raw_path) + len(query) > self.max_url_bytes:
            await refuse(scope, receive, send, 414, LONG_URL)
            return
        if not (valid_url_part(raw_path) and valid_url_part(query)) or "\x00" in scope["path"]:
            await refuse(scope, receive, send, 400, BAD_URL)
            return

        framing = _Framing(scope["headers"])
        if framing.problem is not None:
            await refuse(scope, receive, send, 400, framing.problem)
            return
        scope[CHECKED] = True
        if not framing.has_body:
            await self.app(scope, receive, send)
            return
        if framing.length is not None and framing.length > self.max_body_bytes:
            await refuse(scope, receive, send, 413, too_large_message(self.max_body_bytes))
            return
        try:
            body = await self.read_body(receive)
        except _BodyTooLarge:
            await refuse(scope, receive, send, 413, too_large_message(self.max_body_bytes))
            return
        except _Disconnected:
            return  # nobody is left to answer
        if framing.urlencoded and not valid_urlencoded(body):
            await refuse(scope, receive, send, 400, BAD_FORM)
            return
        await self.app(scope, replay(body, receive), send)

    async def read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk: bytes = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out the body already read, then defers to the server's."""
    pending = True

    async def receive_again() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


def refusal(scope: Scope, status: int, message: str) -> Response:
    """The Italian error page inside an app (plain text in one without a Site), plain text
    in front of a bare ASGI app."""
    if "app" in scope:
        response = error_page(Request(scope), status, message)
    else:
        response = PlainTextResponse(message, status_code=status)
    # The body may be partly unread: the connection cannot carry another request.
    response.headers["Connection"] = "close"
    # A refusal speaks of this one request: no cache or proxy may keep it for the URL.
    response.headers["Cache-Control"] = "no-store"
    return response


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    await refusal(scope, status, message)(scope, receive, send)
