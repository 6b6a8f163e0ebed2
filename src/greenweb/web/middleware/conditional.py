"""Conditional requests: ``If-None-Match`` answered with 304.

:class:`ConditionalMiddleware` wraps the whole app: when a GET or HEAD carries
``If-None-Match`` and the response would be a 200 whose ETag matches, it sends 304 with no
body and the headers a 304 must repeat (RFC 9110, 15.4.5). It does nothing else, so it
costs one header scan on requests without ``If-None-Match``. The ETags themselves and
their matching rule are in :mod:`greenweb.web.http.etag`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenweb.web.http.etag import none_match, not_modified_headers
from greenweb.web.http.headers import header_value


class ConditionalMiddleware:
    """Turns a matching 200 to a GET/HEAD with ``If-None-Match`` into a bodiless 304."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        raw = header_value(scope["headers"], b"if-none-match")
        if raw is None:
            await self.app(scope, receive, send)
            return
        if_none_match = raw.decode("latin-1")
        # "*": any current representation matches, tagged or not.
        any_etag = if_none_match.strip() == "*"
        not_modified = False

        async def send_conditionally(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    etag = header_value(message["headers"], b"etag")
                    if any_etag or (
                        etag is not None and none_match(if_none_match, etag.decode("latin-1"))
                    ):
                        not_modified = True
                        headers = not_modified_headers(message["headers"])
                        await send(
                            {"type": "http.response.start", "status": 304, "headers": headers}
                        )
                        return
            elif not_modified:
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app(scope, receive, send_conditionally)
