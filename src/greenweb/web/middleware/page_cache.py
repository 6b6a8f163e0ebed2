"""The page cache: finished responses kept in memory, per content coding.

A cached view costs a header scan, one read of the write sequence and a dictionary
look-up: the page was rendered, stamped and compressed once, when first asked for.

**Key**: (path, raw query string, content coding).

**Validity**: an entry keeps the write sequence read before its render began and what its
page shows, as its view declared it (:mod:`greenweb.web.shows`; a page that declares
nothing shows everything). It is current while nothing it shows changed after that
sequence (:mod:`greenweb.changes`: a vote changes its question and the lists that show
counts, never a bulletin page) and the day in Rome is the one it was made on (pages say
"scade tra 3 giorni": a new day empties the store).

**The guarantee, across workers: no worker serves a page older than the last committed
write that changed what the page shows.** Every request reads the write sequence with a
synchronous ``sqlite3`` query (about 3 µs of CPU, ``benchmarks/README.md``) before it
looks anything up, and reads the names changed since only when the sequence moved. A
write records its names and moves the sequence in its own transaction, so from its commit
on, every worker's next request knows what it changed and refuses the entries made
before it that show any of it. An entry rendered while such a write commits carries the
sequence read before the render, lower than the write's: it is refused from the moment
the write is read, and not even stored when the write was already committed at the end
of the render. (``tests/cli/test_serve_invalidation.py`` holds two workers to it.)

**Single flight**: concurrent misses for one key that read the same write sequence wait
for the first one's render and are sent its bytes; they do not render the page again. A
request that read a later sequence (it came after a write) never joins a render that
began before: it starts its own. When the first response is not one to share (no-store,
a cookie, an error), each waiting request renders its own.

**Memory**: a least-recently-used store bounded by ``Settings.page_cache_bytes``
(0 turns the cache off); one entry may take at most an eighth of it.

**What is kept** (everything else passes through untouched):

* GET and HEAD requests without ``Cookie`` or ``Authorization`` headers (pages may vary per
  visitor then: a moderator's session);
* 200 responses with a lifetime (``max-age``: the representation middleware gives one to
  every response whose view set neither Cache-Control nor a cookie), neither ``private``,
  ``no-store`` nor ``no-cache``, that carry no ``Set-Cookie``. Not 404s: their keys are
  unbounded (any URL a scanner invents), so keeping them would let scanners evict the real
  pages, and an error page is cheap to render.

A HEAD that misses is rendered as the GET it stands for, so the GET finds it kept.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenweb.changes import ChangeLog
from greenweb.web.http.headers import cache_directives
from greenweb.web.http.negotiation import choose_coding
from greenweb.web.middleware.representation import STORE_HINT
from greenweb.web.middleware.schedule import SEQUENCE_KEY
from greenweb.web.shows import shown

Key = tuple[str, bytes, str]
Headers = tuple[tuple[bytes, bytes], ...]
# What the whole store was made under: the change log's generation and the day.
Validity = tuple[int, date]

# Bytes charged per entry beyond its headers and body: the key, the dicts, the objects.
ENTRY_OVERHEAD: Final = 256
_UNSHAREABLE: Final = frozenset({"private", "no-store", "no-cache"})
_LIFETIME: Final = frozenset({"max-age", "s-maxage"})


@dataclass(slots=True)
class Entry:
    headers: Headers
    body: bytes
    size: int
    # The write sequence read before the render, and what the page shows (None: anything).
    made_at: int
    shows: frozenset[str] | None
    # The route that made the response, for the access log: a hit never reaches the router.
    route: object = None

    @classmethod
    def of(
        cls,
        key: Key,
        headers: Headers,
        body: bytes,
        *,
        made_at: int,
        shows: frozenset[str] | None,
        route: object = None,
    ) -> Entry:
        size = (
            len(body)
            + sum(len(name) + len(value) for name, value in headers)
            + len(key[0])
            + len(key[1])
            + ENTRY_OVERHEAD
        )
        return cls(headers, body, size, made_at, shows, route)


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    joined: int = 0  # misses sent the bytes of a render already under way
    stored: int = 0
    evicted: int = 0
    cleared: int = 0  # the whole store, for a new day (or another database file)
    invalidated: int = 0  # entries dropped because something they show changed


@dataclass
class PageStore:
    """Least-recently-used entries, at most ``capacity`` bytes, all of one validity."""

    capacity: int
    validity: Validity | None = None
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

    def sync(self, validity: Validity) -> None:
        """Forget everything if the day (or the change log's generation) changed."""
        if validity != self.validity:
            if self._entries:
                self.stats.cleared += 1
            self._entries.clear()
            self.size = 0
            self.validity = validity

    def get(self, key: Key, changes: ChangeLog) -> Entry | None:
        """The entry for ``key`` if it is current as far as ``changes`` knows."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if changes.changed_after(entry.shows, entry.made_at):
            self._drop(key, entry)
            self.stats.invalidated += 1
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Entry, changes: ChangeLog) -> bool:
        """Keep ``entry``; refused when too big or when what it shows changed since."""
        if entry.size > self.max_entry or changes.changed_after(entry.shows, entry.made_at):
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old.size
        while self._entries and self.size + entry.size > self.capacity:
            _, evicted = self._entries.popitem(last=False)
            self.size -= evicted.size
            self.stats.evicted += 1
        self._entries[key] = entry
        self.size += entry.size
        self.stats.stored += 1
        return True

    def _drop(self, key: Key, entry: Entry) -> None:
        del self._entries[key]
        self.size -= entry.size


def storable(status: int, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """A 200 that a shared cache may keep: a lifetime, nothing private, no cookie set."""
    if status != 200:
        return False
    lifetime = False
    for name, value in headers:
        if name == b"set-cookie":
            return False
        if name == b"cache-control":
            found = cache_directives(value)
            if found & _UNSHAREABLE:
                return False
            lifetime = lifetime or not found.isdisjoint(_LIFETIME)
    return lifetime


_EMPTY_BODY: Final[Message] = {"type": "http.response.body", "body": b""}

# A render under way: resolved with its entry when the response is one to share (kept or
# not), with None when it is not (each waiting request then renders its own).
Flight = asyncio.Future[Entry | None]
FlightKey = tuple[Key, int]
# The flights the current task leads: a render that asks for its own page in-process
# (/impronta measures itself) must render it, not wait for itself.
_LEADING: ContextVar[frozenset[FlightKey]] = ContextVar(
    "greenweb_page_cache_leading", default=frozenset()
)


class PageCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        store: PageStore,
        changes: ChangeLog,
        today: Callable[[], date],
    ) -> None:
        self.app = app
        self.store = store
        self.changes = changes
        self.today = today
        self.flights: dict[FlightKey, Flight] = {}

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
        # Read once per request: by the scheduled-publishing middleware outside, if present.
        sequence = scope[SEQUENCE_KEY] if SEQUENCE_KEY in scope else self.changes.read()
        if sequence is None:
            await self.app(scope, receive, send)
            return
        store = self.store
        store.sync((self.changes.generation, self.today()))
        key: Key = (scope["path"], scope["query_string"], choose_coding(accept_encoding))
        head = method == "HEAD"
        entry = store.get(key, self.changes)
        if entry is not None:
            store.stats.hits += 1
            await _send_entry(entry, scope, send, head=head)
            return
        flight = self.flights.get((key, sequence))
        if flight is not None and (key, sequence) not in _LEADING.get():
            # shield: a waiting request that goes away must not cancel the others' wait.
            shared = await asyncio.shield(flight)
            if shared is not None:
                store.stats.joined += 1
                await _send_entry(shared, scope, send, head=head)
                return
        store.stats.misses += 1
        await self._lead(scope, receive, send, key, sequence, head=head)

    async def _lead(
        self, scope: Scope, receive: Receive, send: Send, key: Key, sequence: int, *, head: bool
    ) -> None:
        """Render the page, keep it when it may be kept, and share it with the requests
        that miss the same key at the same sequence meanwhile."""
        flight: Flight = asyncio.get_running_loop().create_future()
        flights = self.flights
        # A request whose flight did not share renders alone: never replace a flight.
        mine = (key, sequence) not in flights
        if mine:
            flights[key, sequence] = flight
        leading = _LEADING.set(_LEADING.get() | {(key, sequence)})
        try:
            await self._miss(scope, receive, send, key, sequence, flight, head=head)
        finally:
            _LEADING.reset(leading)
            if mine:
                del flights[key, sequence]
            if not flight.done():
                flight.set_result(None)

    async def _miss(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: Key,
        sequence: int,
        flight: Flight,
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
                    flight.set_result(None)
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
                    entry = Entry.of(
                        key,
                        headers,
                        b"".join(chunks),
                        made_at=sequence,
                        shows=shown(inner),
                        route=inner.get("route"),
                    )
                    # Read again: a write committed during the render makes it stale now.
                    self.changes.read()
                    self.store.put(key, entry, self.changes)
                    # Shared even when not kept: the waiting requests came before any write
                    # that made it stale, as this one did.
                    flight.set_result(entry)
                    await _send_entry(entry, scope, send, head=head)
                    return
                # Too big to keep: let the rest flow through.
                keep = False
                flight.set_result(None)
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


async def _send_entry(entry: Entry, scope: Scope, send: Send, *, head: bool) -> None:
    if entry.route is not None:
        scope["route"] = entry.route
    await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
    await send(_EMPTY_BODY if head else {"type": "http.response.body", "body": entry.body})
