"""The page cache: finished responses kept in memory, per content coding.

A cached view costs a header scan, one read of the content version and a dictionary look-up:
the page was rendered, stamped and compressed once, when first asked for.

**Key**: (path, raw query string, content coding), within the current content version and
the current day in Rome (pages say "scade tra 3 giorni": a new day empties the store too).
**Invalidation**: every public write bumps ``content_version`` in SQLite
(:func:`greenweb.db.bump_content_version`). Every cached view reads that one row with a
synchronous ``sqlite3`` query (about 2.5 µs of CPU, measured in ``benchmarks/README.md``;
``PRAGMA data_version`` costs the same and a time-bounded check would let workers disagree),
and a changed number empties the store. So a page is never served older than the last
committed write, in this worker or any other: the staleness bound across workers is zero.
**Memory**: a least-recently-used store bounded by ``Settings.page_cache_bytes``
(0 turns the cache off); one entry may take at most an eighth of it.

**What is kept** (everything else passes through untouched):

* GET and HEAD requests without ``Cookie`` or ``Authorization`` headers (pages may vary per
  visitor then: a moderator's session);
* 200 responses that say ``Cache-Control: public`` (set by the representation middleware
  on responses whose view did not set Cache-Control) and neither ``private``, ``no-store``
  nor ``no-cache``, and that carry no ``Set-Cookie``. Not 404s: their keys are unbounded (any
  URL a scanner invents), so keeping them would let scanners evict the real pages, and an
  error page is cheap to render.

A HEAD that misses is rendered as the GET it stands for, so the GET finds it kept.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenweb.web.http.headers import cache_directives
from greenweb.web.http.negotiation import choose_coding
from greenweb.web.middleware.representation import STORE_HINT

Key = tuple[str, bytes, str]
Headers = tuple[tuple[bytes, bytes], ...]
# What a kept page was made under: the content version and the day.
Validity = tuple[int, date]

# Bytes charged per entry beyond its headers and body: the key, the dicts, the objects.
ENTRY_OVERHEAD: Final = 256
_UNSHAREABLE: Final = frozenset({"private", "no-store", "no-cache"})


class ContentVersion:
    """Reads the content version with a synchronous connection of its own.

    Blocking the event loop is fine here: the read takes microseconds, and readers never
    wait for writers in WAL mode. A database that cannot be read (locked during recovery,
    missing) yields None and the request bypasses the cache.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def read(self) -> int | None:
        try:
            if self._conn is None:
                conn = sqlite3.connect(
                    str(self.path), isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA query_only = 1")
                self._conn = conn
            row = self._conn.execute("SELECT version FROM content_version").fetchone()
        except sqlite3.Error:
            self.close()
            return None
        return int(row[0]) if row is not None else None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(slots=True)
class Entry:
    headers: Headers
    body: bytes
    size: int
    # The route that made the response, for the access log: a hit never reaches the router.
    route: object = None


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    stored: int = 0
    evicted: int = 0
    cleared: int = 0


@dataclass
class PageStore:
    """Least-recently-used entries, at most ``capacity`` bytes, all of one content version."""

    capacity: int
    version: Validity | None = None
    size: int = 0
    stats: Stats = field(default_factory=Stats)
    _entries: OrderedDict[Key, Entry] = field(default_factory=OrderedDict)

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    @property
    def max_entry(self) -> int:
        return self.capacity // 8

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> Iterable[Key]:
        return list(self._entries)

    def sync(self, version: Validity) -> None:
        """Forget everything if the content changed since the entries were made."""
        if version != self.version:
            if self._entries:
                self.stats.cleared += 1
            self._entries.clear()
            self.size = 0
            self.version = version

    def get(self, key: Key) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(
        self, key: Key, headers: Headers, body: bytes, version: Validity, route: object = None
    ) -> bool:
        """Keep a response made under ``version``; refused if the content changed since."""
        if version != self.version:
            return False
        size = (
            len(body)
            + sum(len(name) + len(value) for name, value in headers)
            + len(key[0])
            + len(key[1])
            + ENTRY_OVERHEAD
        )
        if size > self.max_entry:
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old.size
        while self._entries and self.size + size > self.capacity:
            _, evicted = self._entries.popitem(last=False)
            self.size -= evicted.size
            self.stats.evicted += 1
        self._entries[key] = Entry(headers, body, size, route)
        self.size += size
        self.stats.stored += 1
        return True


def storable(status: int, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """A 200 that declares itself public and sets no cookie."""
    if status != 200:
        return False
    public = False
    for name, value in headers:
        if name == b"set-cookie":
            return False
        if name == b"cache-control":
            found = cache_directives(value)
            if found & _UNSHAREABLE:
                return False
            public = public or "public" in found
    return public


_EMPTY_BODY: Final[Message] = {"type": "http.response.body", "body": b""}


class PageCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        store: PageStore,
        version: ContentVersion,
        today: Callable[[], date],
    ) -> None:
        self.app = app
        self.store = store
        self.version = version
        self.today = today

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.store.enabled:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method != "GET" and method != "HEAD":
            await self.app(scope, receive, send)
            return
        accept_encoding = None
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept_encoding = value
            elif name == b"cookie" or name == b"authorization":
                await self.app(scope, receive, send)
                return
        content = self.version.read()
        if content is None:
            await self.app(scope, receive, send)
            return
        version: Validity = (content, self.today())
        store = self.store
        store.sync(version)
        key: Key = (scope["path"], scope["query_string"], choose_coding(accept_encoding))
        entry = store.get(key)
        if entry is not None:
            store.stats.hits += 1
            if entry.route is not None:
                scope["route"] = entry.route
            await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
            if method == "HEAD":
                await send(_EMPTY_BODY)
            else:
                await send({"type": "http.response.body", "body": entry.body})
            return
        store.stats.misses += 1
        await self._miss(scope, receive, send, key, version, head=method == "HEAD")

    async def _miss(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: Key,
        version: Validity,
        *,
        head: bool,
    ) -> None:
        start: Message | None = None
        keep = False
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal start, keep, size
            if message["type"] == "http.response.start":
                start = message
                keep = storable(message["status"], message["headers"])
                if not keep:
                    await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if keep:
                chunks.append(body)
                size += len(body)
                if more and size <= self.store.max_entry:
                    return
                assert start is not None
                if not more:
                    headers: Headers = tuple((k, v) for k, v in start["headers"])
                    whole = b"".join(chunks)
                    self.store.put(key, headers, whole, version, inner.get("route"))
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send(
                        _EMPTY_BODY if head else {"type": "http.response.body", "body": whole}
                    )
                    return
                # Too big to keep: let the rest flow through.
                keep = False
                await send(start)
                body = b"".join(chunks)
            if head:
                if not more:
                    await send(_EMPTY_BODY)
                return
            await send({"type": "http.response.body", "body": body, "more_body": more})

        # HEAD is rendered as GET so the result serves both (Starlette answers HEAD like GET).
        inner = {**scope, "method": "GET", STORE_HINT: True}
        await self.app(inner, receive, capture)
        if "route" in inner:
            scope["route"] = inner["route"]
