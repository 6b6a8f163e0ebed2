"""Conditional requests: strong ETags from content, ``If-None-Match`` answered with 304.

ETags are made from the bytes sent, with a suffix naming the content coding, so the br,
gzip and identity forms of one page never share a tag (RFC 9110, 8.8.3.3) and every worker
process computes the same tag for the same page.

:class:`ConditionalMiddleware` wraps the whole app: when a GET or HEAD carries
``If-None-Match`` and the response would be a 200 whose ETag matches, it sends 304 with no
body and the headers a 304 must repeat (RFC 9110, 15.4.5). It does nothing else, so it
costs one header scan on requests without ``If-None-Match``.
"""

from __future__ import annotations

import hashlib
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenweb.web.http.negotiation import header_value

ETAG_DIGEST_BYTES: Final = 8
_SUFFIX: Final = {"br": "-br", "gzip": "-gz", "identity": ""}
# Headers a 304 repeats from the 200 it stands for; the rest describe a body it has not.
_KEEP_ON_304: Final = frozenset(
    {b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary"}
)


def make_etag(body: bytes, coding: str = "identity") -> str:
    """A strong ETag for exactly these bytes sent with this content coding."""
    digest = hashlib.blake2b(body, digest_size=ETAG_DIGEST_BYTES).hexdigest()
    return f'"{digest}{_SUFFIX.get(coding, "-" + coding)}"'


def etag_length(coding: str = "identity") -> int:
    """Length of :func:`make_etag`'s result, known before the body is (for the stamp)."""
    return 2 * ETAG_DIGEST_BYTES + 2 + len(_SUFFIX.get(coding, "-" + coding))


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str, etag: str) -> bool:
    """True when ``If-None-Match`` matches ``etag``: the client's copy is current.

    Uses the weak comparison RFC 9110 (13.1.2) prescribes for this header: ``W/"x"``
    matches ``"x"``. ``*`` matches any current representation.
    """
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in if_none_match.split(","))


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
                        headers = [(k, v) for k, v in message["headers"] if k in _KEEP_ON_304]
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
