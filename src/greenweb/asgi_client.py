"""Calling an ASGI app in-process, as a server would, with no network and no HTTP client.

:func:`running` runs the app's lifespan; :func:`request` sends one request and returns a
:class:`Captured`: the status, the headers and the body *as the app sent them* (a brotli
body stays compressed: nothing here decodes behind the caller's back), with the size of
each body message and the CPU time of the call. ``greenweb export`` writes these bytes as
files, ``greenweb footprint`` and ``/impronta`` weigh them, the benchmarks time views
through them.

Nothing here imports Starlette: the app is any ASGI callable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = Iterable[tuple[bytes, bytes]]

DEFAULT_BASE_URL = "http://testserver"


@dataclass(frozen=True)
class Captured:
    """One response exactly as the app sent it."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # as sent, in order
    body: bytes
    cpu_ns: int = 0  # process CPU time of the whole call
    chunk_sizes: tuple[int, ...] = ()  # bytes of each non-empty body message

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        return next(iter(self.header_all(name)), None)

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower().encode("latin-1")
        return [value.decode("latin-1") for key, value in self.headers if key.lower() == wanted]

    @property
    def content_type(self) -> str:
        return self.header("content-type") or ""

    @property
    def content_encoding(self) -> str | None:
        """The coding of the body; None when it is sent as it is (``identity`` too)."""
        value = (self.header("content-encoding") or "").strip().lower()
        return value if value and value != "identity" else None


def make_scope(
    method: str,
    path: str,
    query: bytes = b"",
    headers: Headers = (),
    *,
    base_url: str = DEFAULT_BASE_URL,
    state: dict[str, Any] | None = None,
) -> Scope:
    """The HTTP scope a server would build for this request to ``base_url``'s host."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": parts.scheme or "http",
        "path": path or "/",
        "raw_path": (path or "/").encode("utf-8"),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", parts.netloc.encode("latin-1")), *headers],
        "client": ("127.0.0.1", 50000),
        "server": (parts.hostname or "testserver", port),
        "state": dict(state or {}),
    }


async def request(
    app: ASGIApp,
    target: str,
    *,
    method: str = "GET",
    headers: Headers = (),
    base_url: str = DEFAULT_BASE_URL,
    state: dict[str, Any] | None = None,
    raise_app_errors: bool = True,
) -> Captured:
    """Send one request to ``app`` and collect its response, bytes as sent.

    ``target`` is a path with an optional ``?query``; ``headers`` are lower-case names
    and values, as bytes. ``state`` is the lifespan state to pass on, as a server does (see
    :func:`running`). When the app raises, the error propagates, unless
    ``raise_app_errors`` is false and the app sent a response first (Starlette sends its
    500 page, then re-raises for the server to log): that response is returned, as a
    server would send it.
    """
    path, _, query = target.partition("?")
    scope = make_scope(
        method, path, query.encode("latin-1"), headers, base_url=base_url, state=state
    )
    done = asyncio.Event()
    request_sent = False

    async def receive() -> Message:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # A client that stays connected until the whole response has arrived.
        await done.wait()
        return {"type": "http.disconnect"}

    status = 0
    response_headers: list[tuple[bytes, bytes]] = []
    body = bytearray()
    chunks: list[int] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            response_headers.extend((bytes(k), bytes(v)) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            data = bytes(message.get("body", b""))
            if data:
                body.extend(data)
                chunks.append(len(data))
            if not message.get("more_body", False):
                done.set()

    started = time.process_time_ns()
    try:
        await app(scope, receive, send)
    except Exception as error:
        if raise_app_errors:
            raise
        if status == 0:
            raise RuntimeError(f"{method} {target}: the app failed: {error!r}") from error
    finally:
        cpu = time.process_time_ns() - started
        done.set()
    if status == 0:
        raise RuntimeError(f"{method} {target}: the app sent no response")
    if method == "HEAD":
        body.clear()
    return Captured(status, tuple(response_headers), bytes(body), cpu, tuple(chunks))


@asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[dict[str, Any]]:
    """Run ``app``'s lifespan (start-up, then shut-down on exit), as a server would.

    Yields the lifespan state to pass to :func:`request`.
    """
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        await outbox.put(message)

    task: asyncio.Task[None] = asyncio.ensure_future(app(scope, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    started = await _next_message(outbox, task)
    if started["type"] != "lifespan.startup.complete":
        await _finish(task)
        raise RuntimeError(f"the app failed to start: {started.get('message', started['type'])}")
    try:
        yield state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await _next_message(outbox, task)
        await _finish(task)


async def _next_message(outbox: asyncio.Queue[Message], task: asyncio.Task[None]) -> Message:
    getter = asyncio.ensure_future(outbox.get())
    await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter.done():
        return getter.result()
    getter.cancel()
    task.result()  # re-raise what the app raised
    return {"type": "lifespan.ended"}


async def _finish(task: asyncio.Task[None]) -> None:
    if not task.done():
        await task
    elif not task.cancelled():
        task.result()
