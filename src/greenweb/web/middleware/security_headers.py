"""Security headers on every response, as a pure ASGI middleware.

The header list is built once from the settings, as raw ASGI byte pairs, so a response
pays one list concatenation. A response that already carries one of these headers keeps
its own value: a page with a special need overrides the default in its view, visibly.

Choices worth knowing:

- ``Content-Security-Policy`` allows no script at all; greenweb has none. ``style-src
  'self'`` admits the one stylesheet, ``img-src data:`` the inline favicon.
- ``Referrer-Policy: same-origin``: links to other sites (funders, sources, news) send no
  ``Referer``, so what a reader searched for or read here stays here; greenweb does no
  analytics that would want it. ``no-referrer`` would be stricter but makes browsers send
  ``Origin: null`` on our own form POSTs, which the board's cross-site check relies on;
  ``strict-origin-when-cross-origin`` would tell every linked site where its visitors
  came from.
- ``Strict-Transport-Security`` only when the base URL is https (a plain-http local site
  must not pin itself), without ``includeSubDomains``: sibling hosts are not ours to pin.
- No ``Server`` banner: ``greenweb serve`` runs uvicorn with ``server_header=False``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenweb.config import Settings
from greenweb.web.http.headers import add_missing

HeaderList = tuple[tuple[bytes, bytes], ...]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "browsing-topics=(), interest-cohort=()"
)
HSTS = "max-age=31536000"


def security_headers(settings: Settings) -> HeaderList:
    """The headers every response gets, as lower-case ASGI byte pairs."""
    headers = [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ]
    if settings.https:
        headers.append(("strict-transport-security", HSTS))
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers)


class SecurityHeadersMiddleware:
    """Adds ``headers`` to the start of every HTTP response passing through."""

    def __init__(self, app: ASGIApp, headers: HeaderList) -> None:
        self.app = app
        self.headers = headers
        self.names = frozenset(name for name, _ in headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = add_missing(
                    list(message.get("headers", ())), self.headers, self.names
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


ErrorHandler = Callable[[Request, Exception], Response | Awaitable[Response]]


def with_security_headers(handler: ErrorHandler, headers: HeaderList) -> ErrorHandler:
    """Wrap the 500 handler, whose page Starlette sends from outside all user middleware.

    ``ServerErrorMiddleware`` is always the outermost layer, so a middleware cannot reach
    the error page it sends; the handler itself adds the headers instead.
    """
    names = frozenset(name for name, _ in headers)

    async def secured(request: Request, exc: Exception) -> Response:
        result = handler(request, exc)
        response = await result if inspect.isawaitable(result) else result
        assert isinstance(response, Response)
        response.raw_headers = add_missing(list(response.raw_headers), headers, names)
        return response

    return secured
