"""Security headers on every response, as a pure ASGI middleware.

The header lists are built once from the settings, as raw ASGI byte pairs: one for
responses that travel over https, one for plain http. A response pays one string
comparison to choose and one list concatenation. A response that already carries one
of these headers keeps its own value: a page with a special need overrides the default
in its view, visibly.

Choices worth knowing:

- ``Content-Security-Policy`` allows no script at all; greenweb has none. ``style-src
  'self'`` admits the one stylesheet, ``img-src data:`` the inline favicon.
- ``Referrer-Policy: same-origin``: links to other sites (funders, sources, news) send no
  ``Referer``, so what a reader searched for or read here stays here; greenweb does no
  analytics that would want it. ``no-referrer`` would be stricter but makes browsers send
  ``Origin: null`` on our own form POSTs, which the board's cross-site check relies on;
  ``strict-origin-when-cross-origin`` would tell every linked site where its visitors
  came from.
- ``Strict-Transport-Security`` only on a response that travels over https on a site
  whose base URL is https: the request came over TLS, or through a trusted local proxy
  that said ``X-Forwarded-Proto: https`` (``greenweb serve --proxy-headers``; either way
  the server sets the ASGI scope's ``scheme``). Never over plain http (RFC 6797 §7.2: a
  host must not send it there, and a plain-http local site must not pin itself). No
  ``includeSubDomains``: sibling hosts are not ours to pin. The footer's weight counts
  the https set on an https site (``RepresentationMiddleware``'s ``outer_headers``): a
  page of such a site fetched over plain http states 45 bytes too many.
- No ``Server`` banner: ``greenweb serve`` runs uvicorn with ``server_header=False``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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
HSTS_NAME = b"strict-transport-security"


def security_headers(settings: Settings) -> HeaderList:
    """The headers a response over https gets, as lower-case ASGI byte pairs (with
    ``Strict-Transport-Security`` when the site is https); :class:`ByScheme` drops
    what plain http must not carry."""
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


@dataclass(frozen=True)
class HeaderSet:
    headers: HeaderList
    names: frozenset[bytes]

    @classmethod
    def of(cls, headers: HeaderList) -> HeaderSet:
        return cls(headers, frozenset(name for name, _ in headers))

    def add_to(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return add_missing(headers, self.headers, self.names)


class ByScheme:
    """The two prebuilt sets, chosen by the scheme the request travelled over."""

    def __init__(self, headers: HeaderList) -> None:
        self.https = HeaderSet.of(headers)
        self.http = HeaderSet.of(tuple(pair for pair in headers if pair[0] != HSTS_NAME))

    def for_scheme(self, scheme: str) -> HeaderSet:
        return self.https if scheme == "https" else self.http


class SecurityHeadersMiddleware:
    """Adds the security headers to the start of every HTTP response passing through:
    ``headers`` (from :func:`security_headers`) over https, the same without HSTS over
    plain http."""

    def __init__(self, app: ASGIApp, headers: HeaderList) -> None:
        self.app = app
        self.by_scheme = ByScheme(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = self.by_scheme.for_scheme(scope.get("scheme", "http"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = chosen.add_to(list(message.get("headers", ())))
            await send(message)

        await self.app(scope, receive, send_with_headers)


ErrorHandler = Callable[[Request, Exception], Response | Awaitable[Response]]


def with_security_headers(handler: ErrorHandler, headers: HeaderList) -> ErrorHandler:
    """Wrap the 500 handler, whose page Starlette sends from outside all user middleware.

    ``ServerErrorMiddleware`` is always the outermost layer, so a middleware cannot reach
    the error page it sends; the handler itself adds the headers instead, by the same
    rule as the middleware.
    """
    by_scheme = ByScheme(headers)

    async def secured(request: Request, exc: Exception) -> Response:
        result = handler(request, exc)
        response = await result if inspect.isawaitable(result) else result
        assert isinstance(response, Response)
        chosen = by_scheme.for_scheme(request.scope.get("scheme", "http"))
        response.raw_headers = chosen.add_to(list(response.raw_headers))
        return response

    return secured
