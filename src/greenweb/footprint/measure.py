"""Measuring a target over ASGI in-process: what each page really costs a visitor.

The measurement talks to the application exactly as a server would
(:mod:`greenweb.asgi_client`), so it counts the bytes the app *sends*: a brotli body is
counted compressed, and an uncompressed body is counted as it is. For every target it
records

* the document as served for ``Accept-Encoding: br``, ``gzip`` and ``identity``, with the
  status line and headers as HTTP/1.1 would put them on the wire (:mod:`.wire`);
* the subresources the HTML references (:mod:`.page`), fetched in-process; ``data:`` URLs
  cost no request; a reference to another host is third-party and cannot be fetched here;
* first view (document and every subresource) and repeat view (the document, plus any
  subresource that is not cached as ``immutable``) requests and bytes, and their grams
  CO2e with the site's carbon model (:class:`~greenweb.footprint.carbon.CarbonModel`);
* JavaScript bytes (external scripts, inline scripts, ``on*`` attributes, ``javascript:``
  URLs), web-font bytes, cookies set, DOM element count;
* server CPU time (``time.process_time_ns`` around the ASGI call): the first request of the
  target (cold) and the median of the repeated ones (warm, served from the page cache
  once there is one).

Nothing here imports Starlette: the app is any ASGI callable.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from greenweb.asgi_client import ASGIApp, Captured, request
from greenweb.footprint import wire
from greenweb.footprint.carbon import CarbonModel
from greenweb.footprint.page import (
    FONT_SUFFIXES,
    Reference,
    css_references,
    decoded_body,
    is_html,
    parse_html,
    text_of,
)

DOCUMENT_ACCEPT: Final = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ENCODINGS: Final = ("br", "gzip", "identity")


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
            or path.endswith(FONT_SUFFIXES)
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


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


async def measure_page(
    app: ASGIApp,
    target: Target,
    *,
    model: CarbonModel,
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

    async def get(path: str, accept_encoding: str, accept: str = "*/*") -> Captured:
        headers = [(b"accept", accept), (b"accept-encoding", accept_encoding)]
        return await request(
            app,
            path,
            base_url=base,
            headers=[(name, value.encode("latin-1")) for name, value in headers],
            state=state,
            # Measured as a server sends it: a page that fails is its 500 page.
            raise_app_errors=False,
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
            wire.header_bytes(served[enc]),
            wire.wire_bytes(served[enc]),
        )
        for enc in encodings
    )
    # Raw: the document before compression (a server may compress even for identity).
    raw_bytes = len(decoded_body(served.get("identity", first)))

    page_url = base + target.path
    subresources: list[Resource] = []
    third_party: list[str] = []
    js_bytes = 0
    dom: int | None = None
    if is_html(first.content_type):
        parsed = parse_html(text_of(first), page_url)
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

    first_wire = wire.wire_bytes(first) + sum(r.wire_bytes for r in subresources)
    repeat_resources = [r for r in subresources if not r.cached_on_repeat]
    repeat_wire = wire.wire_bytes(first) + sum(r.wire_bytes for r in repeat_resources)
    first_visit = model.visit(first_wire)
    repeat_visit = model.visit(repeat_wire)
    return PageResult(
        target=target,
        status=first.status,
        content_type=first.content_type,
        is_html=is_html(first.content_type),
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
    get: Callable[[str, str], Awaitable[Captured]],
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
            header_bytes=wire.header_bytes(got),
            wire_bytes=wire.wire_bytes(got),
            cache_control=got.header("cache-control") or "",
            cookies=len(got.header_all("set-cookie")),
        )
        resources.append(resource)
        if resource.is_script:
            js_bytes += len(decoded_body(got))
        media = got.content_type.split(";")[0].strip().lower()
        if media == "text/css" and depth < 3 and got.status == 200:
            queue.extend((r, depth + 1) for r in css_references(text_of(got), url))
    return resources, js_bytes


@dataclass(frozen=True)
class Report:
    pages: tuple[PageResult, ...]
    skipped: tuple[Skipped, ...]
    model: CarbonModel
    generated_at: datetime
    base_url: str

    def page(self, target_id: str) -> PageResult:
        return next(p for p in self.pages if p.id == target_id)


async def measure_site(
    app: ASGIApp,
    targets: Sequence[Target],
    *,
    model: CarbonModel,
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
                model=model,
                base_url=base_url,
                state=state,
                repeats=repeats,
                encodings=encodings,
            )
        )
    return Report(tuple(pages), tuple(skipped), model, datetime.now(UTC), base_url)
