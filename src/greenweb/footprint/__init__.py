"""Page measurement and the carbon budget: what each page really costs, over ASGI in-process.

The measurement talks to the application exactly as a server would, with raw ASGI
messages, so it counts the bytes the app *sends*: a brotli body is counted compressed, and
an uncompressed body is counted as it is (no client here decodes anything behind our back).
For every target it records

* the document as served for ``Accept-Encoding: br``, ``gzip`` and ``identity``, with the
  status line and headers as HTTP/1.1 would put them on the wire (plus the ``date`` header
  the server adds);
* the subresources the HTML references (stylesheets, icons, images, scripts, fonts, media,
  frames, and ``url()``/``@import`` inside CSS), fetched in-process; ``data:`` URLs cost no
  request; a reference to another host is third-party and cannot be fetched here;
* first view (document and every subresource) and repeat view (the document, plus any
  subresource that is not cached as ``immutable``) requests and bytes, and their grams
  CO2e with the Sustainable Web Design model v4 (:mod:`greenweb.carbon`);
* JavaScript bytes (external scripts, inline scripts, ``on*`` attributes, ``javascript:``
  URLs), web-font bytes, cookies set, DOM element count;
* server CPU time (``time.process_time_ns`` around the ASGI call): the first request of the
  target (cold) and the median of the repeated ones (warm, served from the page cache
  once there is one).

:func:`check` compares a :class:`Report` with a :class:`Budget` read from
``footprint-budget.toml``; :func:`to_json`, :func:`render_table` and :func:`render_markdown`
present the result.  Nothing here imports Starlette: the app is any ASGI callable.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

from greenweb.footprint import carbon
from greenweb.footprint.carbon import parse_grid

__all__ = [
    "JSON_SCHEMA_VERSION",
    "LIMITS",
    "Budget",
    "BudgetError",
    "Exchange",
    "Method",
    "PageResult",
    "Report",
    "Resource",
    "Skipped",
    "Target",
    "Violation",
    "carbon_txt",
    "check",
    "css_references",
    "default_budget_path",
    "dumps",
    "load_budget",
    "make_method",
    "measured_value",
    "measure_page",
    "measure_site",
    "parse_budget",
    "parse_grid",
    "parse_html",
    "render_markdown",
    "render_table",
    "request",
    "running",
    "to_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_SCHEMA_VERSION: Final = 1
"""Version of the ``--json`` document; bumped on any incompatible change of its shape."""

# uvicorn (``greenweb serve`` runs it with date_header=True, server_header=False) adds one
# header to every response: ``date``, whose value is always 29 characters long.
SERVER_ADDED_HEADERS: Final = ((b"date", b"Sat, 04 Sep 2021 10:00:00 GMT"),)

DOCUMENT_ACCEPT: Final = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ENCODINGS: Final = ("br", "gzip", "identity")

# --- talking ASGI --------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One response exactly as the app sent it."""

    status: int
    headers: tuple[tuple[str, str], ...]  # names lower-case, in the order sent
    body: bytes
    cpu_ns: int
    chunk_sizes: tuple[int, ...] = ()  # bytes of each body message (for chunked framing)

    @property
    def chunks(self) -> int:
        return len(self.chunk_sizes)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @property
    def content_type(self) -> str:
        return self.header("content-type") or ""

    @property
    def content_encoding(self) -> str | None:
        value = self.header("content-encoding")
        return value.strip().lower() if value and value.strip().lower() != "identity" else None

    @property
    def is_html(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() in (
            "text/html",
            "application/xhtml+xml",
        )

    @property
    def chunked(self) -> bool:
        return self.header("content-length") is None and self.status not in (204, 304)

    @property
    def header_bytes(self) -> int:
        """Status line, headers (the app's and the server's) and the blank line, HTTP/1.1."""
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = ""
        size = len(f"HTTP/1.1 {self.status} {phrase}\r\n".encode("latin-1"))
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        headers.extend(SERVER_ADDED_HEADERS)
        if self.chunked:
            headers.append((b"transfer-encoding", b"chunked"))
        size += sum(len(k) + 2 + len(v) + 2 for k, v in headers)
        return size + 2

    @property
    def framing_bytes(self) -> int:
        """Chunk sizes and terminators when the body has no Content-Length."""
        if not self.chunked:
            return 0
        # Each chunk: hex length, CRLF, data, CRLF; then "0\r\n\r\n".  One chunk per message.
        return sum(len(f"{size:x}") + 4 for size in self.chunk_sizes) + 5

    @property
    def wire_bytes(self) -> int:
        """Everything this response puts on the wire: headers, body as sent, framing."""
        return self.header_bytes + len(self.body) + self.framing_bytes


async def request(
    app: ASGIApp,
    target: str,
    *,
    base_url: str = "http://testserver",
    method: str = "GET",
    headers: Iterable[tuple[str, str]] = (),
    state: dict[str, Any] | None = None,
) -> Exchange:
    """Send one request to ``app`` in-process and collect its response, bytes as sent.

    ``target`` is a path with an optional query. ``state`` is the lifespan state to pass on,
    as a server does (see :func:`running`).
    """
    parts = urlsplit(base_url)
    path, _, query = target.partition("?")
    host = parts.netloc
    port = parts.port or (443 if parts.scheme == "https" else 80)
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": parts.scheme or "http",
        "path": path or "/",
        "raw_path": (path or "/").encode("utf-8"),
        "query_string": query.encode("latin-1"),
        "root_path": "",
        "headers": [(b"host", host.encode("latin-1"))]
        + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": (parts.hostname or "testserver", port),
        "state": dict(state or {}),
    }
    done = asyncio.Event()
    sent_request = False

    async def receive() -> Message:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # A client that stays connected until the whole response has arrived.
        await done.wait()
        return {"type": "http.disconnect"}

    status = 0
    response_headers: list[tuple[str, str]] = []
    body = bytearray()
    chunks: list[int] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            response_headers.extend(
                (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", [])
            )
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
        # Starlette's error middleware sends its 500 page, then re-raises for the server to
        # log.  Like a server, keep what was sent: the status tells the check what happened.
        if status == 0:
            raise RuntimeError(f"{method} {target}: the app failed: {error!r}") from error
    finally:
        cpu = time.process_time_ns() - started
        done.set()
    if status == 0:
        raise RuntimeError(f"{method} {target}: the app sent no response")
    if method == "HEAD":
        body.clear()
    return Exchange(status, tuple(response_headers), bytes(body), cpu, tuple(chunks))


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


# --- reading HTML and CSS ------------------------------------------------------------------

# Link relations that make the browser fetch something; the others (alternate, canonical,
# prev, next, author, license, search ...) are navigation and cost nothing until followed.
_FETCHING_RELS = {
    "stylesheet": "stylesheet",
    "icon": "icon",
    "apple-touch-icon": "icon",
    "apple-touch-icon-precomposed": "icon",
    "mask-icon": "icon",
    "manifest": "manifest",
    "preload": "preload",
    "modulepreload": "script",
}
# Relations that reach another host without fetching a document; still a third-party contact.
_CONNECTING_RELS = {"preconnect", "dns-prefetch", "prefetch", "prerender"}
_PRELOAD_KINDS = {"font": "font", "script": "script", "style": "stylesheet", "image": "image"}
_JS_TYPES = {"", "module", "text/javascript", "application/javascript", "text/ecmascript"}
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""", re.IGNORECASE)
_CSS_IMPORT_STATEMENT = re.compile(r"@import[^;]*;?", re.IGNORECASE)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".otf", ".eot")


@dataclass(frozen=True)
class Reference:
    url: str  # as written, resolved against the document's base
    kind: str  # stylesheet, script, image, icon, font, media, frame, manifest, preload, css


def css_references(css: str, base: str) -> list[Reference]:
    """``@import`` and ``url()`` references of a stylesheet; fonts when inside @font-face."""
    found = [Reference(urljoin(base, m.group(1)), "stylesheet") for m in _CSS_IMPORT.finditer(css)]
    rest = _CSS_IMPORT_STATEMENT.sub("", css)
    fonts = [(m.start(), m.end()) for m in _FONT_FACE.finditer(rest)]
    for match in _CSS_URL.finditer(rest):
        raw = next((g for g in match.groups() if g is not None), "").strip()
        if not raw or raw.startswith("#"):
            continue
        in_font_face = any(start <= match.start() < end for start, end in fonts)
        found.append(Reference(urljoin(base, raw), "font" if in_font_face else "css"))
    return found


class _PageParser(HTMLParser):
    """Counts elements and collects what a browser would fetch or run."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.elements = 0
        self.references: list[Reference] = []
        self.connections: list[str] = []
        self.inline_js = 0
        self._in_script = False
        self._in_style = False
        self._style_text: list[str] = []

    def _add(self, url: str | None, kind: str) -> None:
        if url is None or not url.strip():
            return
        url = url.strip()
        if url.lower().startswith("javascript:"):
            return  # counted as JavaScript in handle_starttag, not a request
        self.references.append(Reference(urljoin(self.base, url), kind))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1
        a = {name: (value or "") for name, value in attrs}
        for name, value in attrs:
            if name.startswith("on") and value:
                self.inline_js += len(value.encode("utf-8"))
            elif value and value.strip().lower().startswith("javascript:"):
                self.inline_js += len(value.strip().encode("utf-8")) - len("javascript:")
        if tag == "base" and a.get("href"):
            self.base = urljoin(self.base, a["href"])
        elif tag == "link":
            rels = a.get("rel", "").lower().split()
            href = a.get("href")
            if any(rel in _CONNECTING_RELS for rel in rels) and href:
                self.connections.append(urljoin(self.base, href))
            kinds = [_FETCHING_RELS[rel] for rel in rels if rel in _FETCHING_RELS]
            if kinds:
                kind = kinds[0]
                if kind == "preload":
                    kind = _PRELOAD_KINDS.get(a.get("as", "").lower(), "preload")
                self._add(href, kind)
        elif tag == "script":
            script_type = a.get("type", "").lower().strip()
            is_js = script_type in _JS_TYPES or script_type.endswith(("javascript", "ecmascript"))
            if "src" in a and is_js:
                self._add(a["src"], "script")
            self._in_script = is_js and "src" not in a
        elif tag == "style":
            self._in_style = True
        elif tag == "img" or (tag == "input" and a.get("type", "").lower() == "image"):
            src = a.get("src") or _first_srcset(a.get("srcset", ""))
            self._add(src, "image")
        elif tag in ("video", "audio"):
            self._add(a.get("poster"), "image")
            if a.get("preload", "").lower() != "none":
                self._add(a.get("src"), "media")
        elif tag in ("iframe", "frame", "embed"):
            self._add(a.get("src"), "frame")
        elif tag == "object":
            self._add(a.get("data"), "frame")
        if a.get("style"):
            for ref in css_references(a["style"], self.base):
                self.references.append(ref)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        elif tag == "style":
            self._in_style = False
            for ref in css_references("".join(self._style_text), self.base):
                self.references.append(ref)
            self._style_text.clear()

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_js += len(data.encode("utf-8"))
        elif self._in_style:
            self._style_text.append(data)


def _first_srcset(srcset: str) -> str | None:
    first = srcset.split(",")[0].strip()
    return first.split()[0] if first else None


@dataclass(frozen=True)
class ParsedPage:
    elements: int
    references: tuple[Reference, ...]
    connections: tuple[str, ...]
    inline_js_bytes: int


def parse_html(html: str, base: str) -> ParsedPage:
    parser = _PageParser(base)
    parser.feed(html)
    parser.close()
    return ParsedPage(
        parser.elements,
        tuple(parser.references),
        tuple(parser.connections),
        parser.inline_js,
    )


def _charset(content_type: str) -> str:
    match = re.search(r"charset=([\w-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else "utf-8"


def _decoded_body(exchange: Exchange) -> bytes:
    """The body with its content-encoding undone (for parsing and raw sizes only)."""
    encoding = exchange.content_encoding
    if encoding is None:
        return exchange.body
    if encoding == "br":
        import brotli

        return bytes(brotli.decompress(exchange.body))
    if encoding == "gzip":
        import gzip

        return gzip.decompress(exchange.body)
    raise ValueError(f"cannot read a body with content-encoding {encoding!r}")


def _decode(exchange: Exchange) -> str:
    return _decoded_body(exchange).decode(_charset(exchange.content_type), errors="replace")


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One address to measure.  ``id`` is stable: the budget and the JSON use it."""

    id: str
    path: str  # path and optional query
    label: str  # Italian, for /impronta
    expected_status: int = 200


@dataclass(frozen=True)
class Skipped:
    id: str
    reason: str


@dataclass(frozen=True)
class Resource:
    """A subresource of the first view."""

    url: str
    kind: str
    third_party: bool
    fetched: bool
    status: int | None = None
    content_type: str = ""
    content_encoding: str | None = None
    body_bytes: int = 0
    header_bytes: int = 0
    wire_bytes: int = 0
    cache_control: str = ""
    cookies: int = 0

    @property
    def cached_on_repeat(self) -> bool:
        """Free on a repeat view: cached ``immutable`` with a positive max-age."""
        directives = {d.strip().lower() for d in self.cache_control.split(",")}
        if not self.fetched or "no-store" in directives or "no-cache" in directives:
            return False
        max_age = next((d.split("=", 1)[1] for d in directives if d.startswith("max-age=")), "0")
        return "immutable" in directives and max_age.isdigit() and int(max_age) > 0

    @property
    def is_font(self) -> bool:
        media = self.content_type.split(";")[0].strip().lower()
        path = urlsplit(self.url).path.lower()
        return (
            self.kind == "font"
            or media.startswith(("font/", "application/font", "application/x-font"))
            or path.endswith(_FONT_SUFFIXES)
        )

    @property
    def is_script(self) -> bool:
        media = self.content_type.split(";")[0].strip().lower()
        return self.kind == "script" or media.endswith(("javascript", "ecmascript"))


@dataclass(frozen=True)
class Encoded:
    """The document as served for one ``Accept-Encoding``."""

    accept_encoding: str
    content_encoding: str | None
    body_bytes: int
    header_bytes: int
    wire_bytes: int


@dataclass(frozen=True)
class View:
    requests: int
    wire_bytes: int
    co2e_g: float
    rating: str


@dataclass(frozen=True)
class PageResult:
    target: Target
    status: int
    content_type: str
    is_html: bool
    document: tuple[Encoded, ...]  # br, gzip, identity (or the encodings asked for)
    raw_bytes: int  # the body served for identity, decoded size
    subresources: tuple[Resource, ...]
    first_view: View
    repeat_view: View
    js_bytes: int
    font_bytes: int
    third_party: tuple[str, ...]
    cookies: int
    dom_elements: int | None
    cpu_uncached_ns: int
    cpu_cached_ns: int | None  # median of the repeats; None when repeats=0
    cpu_samples: int

    @property
    def id(self) -> str:
        return self.target.id

    def encoded(self, accept: str) -> Encoded:
        """The document as served for ``accept``; the first one measured if not measured."""
        return next((e for e in self.document if e.accept_encoding == accept), self.document[0])

    @property
    def document_br_bytes(self) -> int:
        return self.encoded("br").body_bytes


@dataclass(frozen=True)
class Method:
    """How grams were estimated."""

    grid_label: str  # "global", "ITA", "300"
    grid: carbon.GridIntensity
    green_hosting: bool

    def visit(self, wire_bytes: int) -> carbon.Segments:
        return carbon.per_visit(wire_bytes, grid=self.grid, green_hosting=self.green_hosting)


def make_method(grid_intensity: str, green_hosting: bool) -> Method:
    label, grid = parse_grid(grid_intensity)
    return Method(label, grid, green_hosting)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


async def measure_page(
    app: ASGIApp,
    target: Target,
    *,
    method: Method,
    base_url: str = "http://testserver",
    state: dict[str, Any] | None = None,
    repeats: int = 5,
    encodings: Sequence[str] = ENCODINGS,
) -> PageResult:
    """Measure one target: see the module docstring for what and how.

    ``encodings`` are the ``Accept-Encoding`` values the document is requested with; the
    first is the one the views (first, repeat) and the subresources use.
    """
    if not encodings:
        raise ValueError("at least one encoding is needed")
    base = base_url.rstrip("/")

    async def get(path: str, accept_encoding: str, accept: str = "*/*") -> Exchange:
        return await request(
            app,
            path,
            base_url=base,
            headers=[("accept", accept), ("accept-encoding", accept_encoding)],
            state=state,
        )

    # The first request is the cold one: nothing cached for this page yet.
    first = await get(target.path, encodings[0], DOCUMENT_ACCEPT)
    served = {encodings[0]: first}
    for encoding in encodings[1:]:
        served[encoding] = await get(target.path, encoding, DOCUMENT_ACCEPT)
    samples = [
        (await get(target.path, encodings[0], DOCUMENT_ACCEPT)).cpu_ns for _ in range(repeats)
    ]

    document = tuple(
        Encoded(
            enc,
            served[enc].content_encoding,
            len(served[enc].body),
            served[enc].header_bytes,
            served[enc].wire_bytes,
        )
        for enc in encodings
    )
    # Raw: the document before compression (a server may compress even for identity).
    raw_bytes = len(_decoded_body(served.get("identity", first)))

    page_url = base + target.path
    subresources: list[Resource] = []
    third_party: list[str] = []
    js_bytes = 0
    dom: int | None = None
    if first.is_html:
        parsed = parse_html(_decode(first), page_url)
        dom = parsed.elements
        js_bytes += parsed.inline_js_bytes
        third_party.extend(u for u in parsed.connections if _origin(u) != _origin(page_url))
        subresources, js_from_resources = await _fetch_all(
            parsed.references, page_url=page_url, get=get
        )
        js_bytes += js_from_resources
        third_party.extend(r.url for r in subresources if r.third_party)
    cookies = len(first.header_all("set-cookie")) + sum(r.cookies for r in subresources)
    font_bytes = sum(r.body_bytes for r in subresources if r.is_font)

    first_wire = first.wire_bytes + sum(r.wire_bytes for r in subresources)
    repeat_resources = [r for r in subresources if not r.cached_on_repeat]
    repeat_wire = first.wire_bytes + sum(r.wire_bytes for r in repeat_resources)
    first_visit = method.visit(first_wire)
    repeat_visit = method.visit(repeat_wire)
    return PageResult(
        target=target,
        status=first.status,
        content_type=first.content_type,
        is_html=first.is_html,
        document=document,
        raw_bytes=raw_bytes,
        subresources=tuple(subresources),
        first_view=View(1 + len(subresources), first_wire, first_visit.total, first_visit.rating),
        repeat_view=View(
            1 + len(repeat_resources), repeat_wire, repeat_visit.total, repeat_visit.rating
        ),
        js_bytes=js_bytes,
        font_bytes=font_bytes,
        third_party=tuple(dict.fromkeys(third_party)),
        cookies=cookies,
        dom_elements=dom,
        cpu_uncached_ns=first.cpu_ns,
        cpu_cached_ns=int(statistics.median(samples)) if samples else None,
        cpu_samples=len(samples),
    )


async def _fetch_all(
    references: Sequence[Reference],
    *,
    page_url: str,
    get: Callable[[str, str], Awaitable[Exchange]],
) -> tuple[list[Resource], int]:
    """Fetch every distinct reference once, following stylesheets' own references."""
    resources: list[Resource] = []
    seen: set[str] = set()
    js_bytes = 0
    queue = [(ref, 0) for ref in references]
    while queue:
        ref, depth = queue.pop(0)
        url = ref.url.split("#", 1)[0]
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("data", "about", "blob") or url in seen:
            continue  # a data: URL is part of the document already: no request
        seen.add(url)
        if _origin(url) != _origin(page_url):
            resources.append(Resource(url, ref.kind, third_party=True, fetched=False))
            continue
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        got = await get(path, "br")
        resource = Resource(
            url,
            ref.kind,
            third_party=False,
            fetched=True,
            status=got.status,
            content_type=got.content_type,
            content_encoding=got.content_encoding,
            body_bytes=len(got.body),
            header_bytes=got.header_bytes,
            wire_bytes=got.wire_bytes,
            cache_control=got.header("cache-control") or "",
            cookies=len(got.header_all("set-cookie")),
        )
        resources.append(resource)
        if resource.is_script:
            js_bytes += len(_decoded_body(got))
        media = got.content_type.split(";")[0].strip().lower()
        if media == "text/css" and depth < 3 and got.status == 200:
            queue.extend((r, depth + 1) for r in css_references(_decode(got), url))
    return resources, js_bytes


@dataclass(frozen=True)
class Report:
    pages: tuple[PageResult, ...]
    skipped: tuple[Skipped, ...]
    method: Method
    generated_at: datetime
    base_url: str

    def page(self, target_id: str) -> PageResult:
        return next(p for p in self.pages if p.id == target_id)


async def measure_site(
    app: ASGIApp,
    targets: Sequence[Target],
    *,
    method: Method,
    base_url: str = "http://testserver",
    state: dict[str, Any] | None = None,
    repeats: int = 5,
    skipped: Sequence[Skipped] = (),
    encodings: Sequence[str] = ENCODINGS,
) -> Report:
    pages = []
    for target in targets:
        pages.append(
            await measure_page(
                app,
                target,
                method=method,
                base_url=base_url,
                state=state,
                repeats=repeats,
                encodings=encodings,
            )
        )
    return Report(tuple(pages), tuple(skipped), method, datetime.now(UTC), base_url)


# --- the budget ----------------------------------------------------------------------------

LIMITS: Final = {
    "transfer_bytes": "bytes of the first view: every response, headers and body as sent",
    "document_br_bytes": "bytes of the document body as served for Accept-Encoding: br",
    "requests": "requests of the first view (document and subresources)",
    "repeat_requests": "requests of a repeat view (subresources cached immutable are free)",
    "js_bytes": "JavaScript bytes (scripts, inline scripts, event attributes)",
    "font_bytes": "web-font bytes",
    "third_party": "references to another host (requests, preconnects)",
    "cookies": "Set-Cookie headers over the first view",
    "dom_elements": "elements in the document",
}
"""Every limit a budget may set (each is a maximum), with what it measures."""

_SECTIONS: Final = ("page", "resource")


class BudgetError(ValueError):
    """The budget file is unreadable or holds a key or value greenweb does not know."""


@dataclass(frozen=True)
class Budget:
    """Maxima per class of target: ``page`` (HTML), ``resource`` (anything else), per route."""

    page: dict[str, int]
    resource: dict[str, int]
    routes: dict[str, dict[str, int]]
    source: str = "footprint-budget.toml"

    def limits_for(self, result: PageResult) -> dict[str, int]:
        base = self.page if result.is_html else self.resource
        return {**base, **self.routes.get(result.id, {})}


def _limits(table: object, where: str, source: str) -> dict[str, int]:
    if not isinstance(table, dict):
        raise BudgetError(f"{source}: {where}: expected a table")
    limits = {}
    for key, value in table.items():
        if key not in LIMITS:
            known = ", ".join(LIMITS)
            raise BudgetError(f"{source}: {where}.{key}: unknown key (known: {known})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BudgetError(f"{source}: {where}.{key}: expected a whole number >= 0")
        limits[key] = value
    return limits


def parse_budget(text: str, source: str = "footprint-budget.toml") -> Budget:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BudgetError(f"{source}: not valid TOML: {error}") from None
    for key in data:
        if key not in ("schema", *_SECTIONS, "routes"):
            raise BudgetError(
                f"{source}: {key}: unknown key (known: schema, page, resource, routes)"
            )
    if data.get("schema") != 1:
        raise BudgetError(f"{source}: schema: expected 1, got {data.get('schema')!r}")
    routes_table = data.get("routes", {})
    if not isinstance(routes_table, dict):
        raise BudgetError(f"{source}: routes: expected a table of route ids")
    return Budget(
        page=_limits(data.get("page", {}), "page", source),
        resource=_limits(data.get("resource", {}), "resource", source),
        routes={
            name: _limits(table, f"routes.{name}", source) for name, table in routes_table.items()
        },
        source=source,
    )


def load_budget(path: Path) -> Budget:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BudgetError(f"{path}: cannot read: {error.strerror or error}") from None
    return parse_budget(text, str(path))


@dataclass(frozen=True)
class Violation:
    page: str
    path: str
    limit: str
    measured: int
    maximum: int

    def __str__(self) -> str:
        if self.limit == "status":
            return f"{self.page} ({self.path}): status {self.measured}, expected {self.maximum}"
        return (
            f"{self.page} ({self.path}): {self.limit} {self.measured:,} > {self.maximum:,} "
            f"(over by {self.measured - self.maximum:,})"
        )


def measured_value(result: PageResult, limit: str) -> int | None:
    """The figure of ``result`` a limit applies to; None when it does not apply."""
    values: dict[str, int | None] = {
        "transfer_bytes": result.first_view.wire_bytes,
        "document_br_bytes": result.document_br_bytes,
        "requests": result.first_view.requests,
        "repeat_requests": result.repeat_view.requests,
        "js_bytes": result.js_bytes,
        "font_bytes": result.font_bytes,
        "third_party": len(result.third_party),
        "cookies": result.cookies,
        "dom_elements": result.dom_elements,
    }
    return values[limit]


def check(report: Report, budget: Budget) -> list[Violation]:
    """Every limit every page exceeds, in page order; empty when all pass."""
    violations = []
    for result in report.pages:
        if result.status != result.target.expected_status:
            violations.append(
                Violation(
                    result.id,
                    result.target.path,
                    "status",
                    result.status,
                    result.target.expected_status,
                )
            )
        for limit, maximum in budget.limits_for(result).items():
            value = measured_value(result, limit)
            if value is not None and value > maximum:
                violations.append(Violation(result.id, result.target.path, limit, value, maximum))
    return violations


def default_budget_path() -> Path:
    """``footprint-budget.toml``: inside the installed package, or at the checkout's top."""
    from greenweb.paths import CHECKOUT_DIR, PACKAGE_DIR

    inside = PACKAGE_DIR / BUDGET_FILE_NAME
    return inside if inside.is_file() else CHECKOUT_DIR / BUDGET_FILE_NAME


BUDGET_FILE_NAME: Final = "footprint-budget.toml"


# --- carbon.txt ----------------------------------------------------------------------------

CARBON_TXT_VERSION: Final = "0.4"
"""The carbon.txt syntax written (https://carbontxt.org/, the Green Web Foundation)."""


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string: same quotes, same escapes.
    return json.dumps(value, ensure_ascii=False)


def carbon_txt(*, disclosure_url: str, hosting_provider: str) -> str:
    """A carbon.txt file: the footprint page as disclosure, the host as upstream service."""
    domain = urlsplit(disclosure_url).hostname or ""
    disclosure = (
        f"doc_type = {_toml_string('web-page')}, url = {_toml_string(disclosure_url)}, "
        f"domain = {_toml_string(domain)}, "
        f"title = {_toml_string('Impronta: peso e CO2e di ogni pagina di greenweb')}"
    )
    lines = [
        "# carbon.txt: where to find this site's sustainability data (https://carbontxt.org/).",
        f"version = {_toml_string(CARBON_TXT_VERSION)}",
        "",
        "[org]",
        f"disclosures = [{{ {disclosure} }}]",
        "",
        "[upstream]",
    ]
    if hosting_provider:
        lines.append(f"services = [{{ domain = {_toml_string(hosting_provider)} }}]")
    else:
        lines.append("# No hosting provider configured (GREENWEB_HOSTING_PROVIDER).")
        lines.append("services = []")
    return "\n".join(lines) + "\n"


# --- presenting ----------------------------------------------------------------------------


def _us(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1000, 1)


def to_json(
    report: Report, budget: Budget | None = None, violations: Sequence[Violation] | None = None
) -> dict[str, Any]:
    """The ``--json`` document (see README, "Footprint"); ``schema_version`` guards its shape."""
    method = report.method
    document: dict[str, Any] = {
        "schema": "greenweb-footprint",
        "schema_version": JSON_SCHEMA_VERSION,
        "generated_at": report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "base_url": report.base_url,
        "model": {
            "name": "Sustainable Web Design",
            "version": 4,
            "co2js_version": carbon.CO2JS_VERSION,
            "operational_kwh_per_gb": dict(carbon.OPERATIONAL_KWH_PER_GB),
            "embodied_kwh_per_gb": dict(carbon.EMBODIED_KWH_PER_GB),
            "grid": method.grid_label,
            "grid_intensity_g_per_kwh": {
                "data_center": method.grid.data_center,
                "network": method.grid.network,
                "device": method.grid.device,
                "embodied": carbon.GLOBAL_GRID_INTENSITY,
            },
            "green_hosting": method.green_hosting,
        },
        "pages": [_page_json(p) for p in report.pages],
        "skipped": [{"id": s.id, "reason": s.reason} for s in report.skipped],
    }
    if budget is not None:
        found = check(report, budget) if violations is None else list(violations)
        document["check"] = {
            "budget": budget.source,
            "passed": not found,
            "violations": [
                {
                    "page": v.page,
                    "path": v.path,
                    "limit": v.limit,
                    "measured": v.measured,
                    "maximum": v.maximum,
                }
                for v in found
            ],
        }
    return document


def _view_json(view: View) -> dict[str, Any]:
    return {
        "requests": view.requests,
        "transfer_bytes": view.wire_bytes,
        "co2e_g": view.co2e_g,
        "rating": view.rating,
    }


def _page_json(p: PageResult) -> dict[str, Any]:
    return {
        "id": p.id,
        "path": p.target.path,
        "label": p.target.label,
        "expected_status": p.target.expected_status,
        "status": p.status,
        "content_type": p.content_type,
        "html": p.is_html,
        "raw_bytes": p.raw_bytes,
        "document": {
            e.accept_encoding: {
                "content_encoding": e.content_encoding,
                "body_bytes": e.body_bytes,
                "header_bytes": e.header_bytes,
                "transfer_bytes": e.wire_bytes,
            }
            for e in p.document
        },
        "subresources": [
            {
                "url": r.url,
                "kind": r.kind,
                "third_party": r.third_party,
                "fetched": r.fetched,
                "status": r.status,
                "content_type": r.content_type,
                "content_encoding": r.content_encoding,
                "body_bytes": r.body_bytes,
                "header_bytes": r.header_bytes,
                "transfer_bytes": r.wire_bytes,
                "cached_on_repeat": r.cached_on_repeat,
            }
            for r in p.subresources
        ],
        "first_view": _view_json(p.first_view),
        "repeat_view": _view_json(p.repeat_view),
        "js_bytes": p.js_bytes,
        "font_bytes": p.font_bytes,
        "third_party": list(p.third_party),
        "cookies": p.cookies,
        "dom_elements": p.dom_elements,
        "cpu_us": {
            "uncached": _us(p.cpu_uncached_ns),
            "cached_median": _us(p.cpu_cached_ns),
            "cached_samples": p.cpu_samples,
        },
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_COLUMNS: Final = (
    ("page", "<"),
    ("status", ">"),
    ("enc", "<"),
    ("raw B", ">"),
    ("br B", ">"),
    ("gzip B", ">"),
    ("1st B", ">"),
    ("req", ">"),
    ("rep", ">"),
    ("JS", ">"),
    ("3rd", ">"),
    ("ck", ">"),
    ("DOM", ">"),
    ("g CO2e 1st", ">"),
    ("g rep", ">"),
    ("", "<"),
    ("CPU µs cold", ">"),
    ("warm", ">"),
)


def _row(p: PageResult) -> list[str]:
    br = p.encoded("br")
    return [
        p.id,
        str(p.status),
        br.content_encoding or "none",
        f"{p.raw_bytes:,}",
        f"{br.body_bytes:,}",
        f"{p.encoded('gzip').body_bytes:,}",
        f"{p.first_view.wire_bytes:,}",
        str(p.first_view.requests),
        str(p.repeat_view.requests),
        f"{p.js_bytes:,}",
        str(len(p.third_party)),
        str(p.cookies),
        "-" if p.dom_elements is None else str(p.dom_elements),
        carbon.format_grams(p.first_view.co2e_g),
        carbon.format_grams(p.repeat_view.co2e_g),
        p.first_view.rating,
        f"{p.cpu_uncached_ns / 1000:,.0f}",
        "-" if p.cpu_cached_ns is None else f"{p.cpu_cached_ns / 1000:,.0f}",
    ]


def _method_line(method: Method) -> str:
    grid = method.grid
    intensity = (
        f"{grid.device:g} g/kWh"
        if grid.device == grid.network == grid.data_center
        else f"device {grid.device:g}, network {grid.network:g}, data centre "
        f"{grid.data_center:g} g/kWh"
    )
    green = "green hosting" if method.green_hosting else "grey hosting"
    return (
        f"SWD v4 (CO2.js {carbon.CO2JS_VERSION}), grid {method.grid_label} ({intensity}), {green}"
    )


def render_table(report: Report, violations: Sequence[Violation] | None = None) -> str:
    """An aligned plain-text table, one row per page, then the budget verdict if checked."""
    rows = [[name for name, _ in _COLUMNS]] + [_row(p) for p in report.pages]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if align == "<" else cell.rjust(width)
            for cell, width, (_, align) in zip(row, widths, _COLUMNS, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(_method_line(report.method) + "; bytes over the wire as sent for br.")
    for skipped in report.skipped:
        lines.append(f"skipped {skipped.id}: {skipped.reason}")
    if violations is not None:
        lines.extend(_verdict(report, violations))
    return "\n".join(lines) + "\n"


def _verdict(report: Report, violations: Sequence[Violation]) -> list[str]:
    if not violations:
        return [f"budget: all {len(report.pages)} pages within budget"]
    pages = len({v.page for v in violations})
    lines = [f"budget: {len(violations)} limits exceeded on {pages} pages:"]
    lines.extend(f"  {v}" for v in violations)
    return lines


def render_markdown(report: Report, violations: Sequence[Violation] | None = None) -> str:
    """A GitHub-flavoured Markdown summary (for CI job summaries)."""
    header = [
        "page",
        "path",
        "status",
        "br bytes",
        "first view bytes",
        "requests (repeat)",
        "DOM",
        "g CO2e",
        "rating",
    ]
    lines = ["## Footprint", ""]
    if violations is not None:
        lines.append(
            "**Budget: all pages pass.**"
            if not violations
            else f"**Budget: {len(violations)} limits exceeded.**"
        )
        lines.append("")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join([" --- "] * 2 + [" ---: "] * (len(header) - 2)) + "|")
    for p in report.pages:
        cells = [
            p.id,
            f"`{p.target.path}`",
            str(p.status),
            f"{p.document_br_bytes:,}",
            f"{p.first_view.wire_bytes:,}",
            f"{p.first_view.requests} ({p.repeat_view.requests})",
            "" if p.dom_elements is None else str(p.dom_elements),
            carbon.format_grams(p.first_view.co2e_g),
            p.first_view.rating,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(_method_line(report.method) + ".")
    if violations:
        lines.append("")
        lines.extend(f"- {v}" for v in violations)
    for skipped in report.skipped:
        lines.append(f"\n_skipped {skipped.id}: {skipped.reason}_")
    return "\n".join(lines) + "\n"
