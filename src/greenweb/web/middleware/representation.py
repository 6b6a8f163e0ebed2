"""The one place where a response body becomes the bytes sent.

:class:`RepresentationMiddleware` sits just outside the routes. For every response it
buffers the body (up to a limit) and then:

* stamps the footer weight into HTML that carries :data:`greenweb.web.http.stamp.MARKER`,
  exactly, in one compression pass (:func:`~greenweb.web.http.stamp.stamp_in_one_pass`);
* picks the content coding the client accepts (:mod:`~greenweb.web.http.negotiation`) and
  compresses text bodies big enough to gain (:mod:`~greenweb.web.http.compression`), at
  brotli's best quality when the page cache will keep the result, at a fast one otherwise;
  a kept page is compressed in a worker thread, so the event loop goes on serving;
* sets ``Content-Length``, ``Content-Encoding``, ``Vary: Accept-Encoding`` and a strong
  ETag of the bytes sent;
* marks shareable pages ``Cache-Control: max-age=..., stale-while-revalidate=600``: no
  ``public``, which only matters to responses to requests with ``Authorization`` (RFC
  9111 3.5), and greenweb's never have it (a request with one is not shareable). The page
  cache keeps responses by their ``max-age`` (:func:`~.page_cache.storable`).

A response is *shareable* when it is a 200 to a GET or HEAD from a request with no
``Cookie`` or ``Authorization`` header, and the view set neither ``Cache-Control`` nor
``Set-Cookie``. Views opt out by setting ``Cache-Control`` themselves (``no-store`` for
forms with tokens, ``private`` for pages that vary per visitor).

Responses that already carry ``Content-Encoding`` or ``Vary: Accept-Encoding`` negotiated
their own coding (the static assets) and pass through untouched, as do bodies larger than
``max_buffer`` (streamed as they come).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenweb.footprint import wire
from greenweb.footprint.carbon import CarbonModel
from greenweb.web.http import compression, etag, stamp
from greenweb.web.http.headers import (
    add_vary,
    anonymous,
    cache_directives,
    chose_own_coding,
    header_value,
)
from greenweb.web.http.negotiation import Coding, choose_coding

# Set in the scope by the page cache when it will keep a shareable response: worth
# compressing at the slowest, smallest setting.
STORE_HINT: Final = "greenweb.will_store"
MAX_BUFFER: Final = 4 * 1024 * 1024
STALE_WHILE_REVALIDATE: Final = 600

_DROP: Final = frozenset({b"content-length", b"etag"})


def page_cache_control(max_age: int) -> bytes:
    return f"max-age={max_age}, stale-while-revalidate={STALE_WHILE_REVALIDATE}".encode()


def shareable(
    status: int, upstream: Sequence[tuple[bytes, bytes]], anonymous_request: bool
) -> bool:
    """A 200 to an anonymous GET or HEAD whose view set neither Cache-Control nor a cookie."""
    return (
        anonymous_request
        and status == 200
        and header_value(upstream, b"cache-control") is None
        and header_value(upstream, b"set-cookie") is None
    )


class RepresentationMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_age: int,
        model: CarbonModel,
        max_buffer: int = MAX_BUFFER,
        outer_headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        self.app = app
        # Headers that middleware outside this one adds to every response (the security
        # headers): they travel on the wire too, so the footer weight must count them.
        self.outer_headers = list(outer_headers)
        self.cache_control = page_cache_control(max_age)
        self.model = model
        self.max_buffer = max_buffer
        # Compressed / plain size of the last stamped page per (coding, stored): the
        # stamp's first guess at the next page's size.
        self._ratio: dict[tuple[str, bool], float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = scope["headers"]
        coding = choose_coding(header_value(request_headers, b"accept-encoding"))
        shareable_request = scope["method"] in ("GET", "HEAD") and anonymous(request_headers)
        head = scope["method"] == "HEAD"
        will_store = bool(scope.get(STORE_HINT, False))
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        streaming = False

        async def send_represented(message: Message) -> None:
            nonlocal start, size, streaming
            if streaming:
                await send(message)
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                if status < 200 or status in (204, 304) or chose_own_coding(message["headers"]):
                    streaming = True
                    await send(message)
                else:
                    start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body = message.get("body", b"")
            chunks.append(body)
            size += len(body)
            if message.get("more_body", False):
                if size > self.max_buffer:
                    # Too big to hold: send as it comes, unencoded and unstamped.
                    streaming = True
                    await send(start)
                    await send(
                        {"type": "http.response.body", "body": b"".join(chunks), "more_body": True}
                    )
                return
            whole = b"".join(chunks)
            args = (start, whole, coding, shareable_request, will_store)
            if (
                will_store
                and coding != "identity"
                and shareable(start["status"], start["headers"], shareable_request)
            ):
                # Brotli 11 on a page to keep: a few ms of CPU, off the event loop.
                final_start, final_body = await asyncio.to_thread(self.represent, *args)
            else:
                final_start, final_body = self.represent(*args)
            await send(final_start)
            await send({"type": "http.response.body", "body": b"" if head else final_body})

        await self.app(scope, receive, send_represented)

    def represent(
        self,
        start: Message,
        body: bytes,
        coding: Coding,
        shareable_request: bool,
        will_store: bool,
    ) -> tuple[Message, bytes]:
        """The final response start message and body bytes for a buffered response."""
        status: int = start["status"]
        upstream: list[tuple[bytes, bytes]] = list(start["headers"])
        headers = [(k, v) for k, v in upstream if k not in _DROP]
        content_type = header_value(upstream, b"content-type")
        cache_control = header_value(upstream, b"cache-control")
        shared = shareable(status, upstream, shareable_request)
        if shared:
            headers.append((b"cache-control", self.cache_control))
        no_store = "no-store" in cache_directives(cache_control)
        # An ETag the view set is replaced (the bytes change); otherwise every 200 that may
        # be kept somewhere gets one, so it can be revalidated with a 304.
        tagged = (status == 200 and not no_store) or header_value(upstream, b"etag") is not None

        negotiable = compression.is_compressible(content_type) and len(body) >= compression.MIN_SIZE
        chosen: Coding = coding if negotiable else "identity"
        if negotiable:
            headers = add_vary(headers, b"Accept-Encoding")
        stored = will_store and shared
        stamping = (
            content_type is not None
            and content_type.startswith(b"text/html")
            and stamp.has_marker(body)
        )

        def finish(chosen: Coding) -> tuple[list[tuple[bytes, bytes]], bytes]:
            final = list(headers)
            if chosen != "identity":
                final.append((b"content-encoding", chosen.encode()))
            if stamping:
                placeholder = b"x" * etag.etag_length(chosen) if tagged else None
                fixed = final + self.outer_headers
                fixed += [(b"etag", placeholder)] if placeholder else []
                fixed_size = wire.head_size(fixed, status) + len(b"content-length") + 4

                head_bytes = stamp.head_with_length(fixed_size)

                stamped = stamp.stamp_in_one_pass(
                    body, chosen, head_bytes, self.model, stored=stored
                )
                if stamped is None:
                    stamped = stamp.stamp(
                        body,
                        lambda html: compression.encode_body(html, chosen, stored=stored),
                        head_bytes,
                        self.model,
                        exact=stored,
                        guess=int(len(body) * self._ratio.get((chosen, stored), 1.0)),
                    )
                    self._ratio[chosen, stored] = len(stamped[0]) / len(body)
                encoded = stamped[0]
            else:
                encoded = compression.encode_body(body, chosen, stored=stored)
            if tagged:
                final.append((b"etag", etag.make_etag(encoded, chosen).encode()))
            final.append((b"content-length", str(len(encoded)).encode()))
            return final, encoded

        final, encoded = finish(chosen)
        if chosen != "identity" and not compression.pays(len(body), len(encoded), chosen):
            final, encoded = finish("identity")
        return {"type": "http.response.start", "status": status, "headers": final}, encoded
