"""The footprint on the site: ``/impronta`` (every page's weight and grams) and ``/carbon.txt``.

Also where the list of measured addresses is built.  ``Site.footprint_targets`` is a
list of *target sources*: async functions that take the app and return the
:class:`~greenweb.footprint.measure.Target` objects of one area (or a
:class:`~greenweb.footprint.measure.Skipped` saying why an address is left out, e.g. a
deep list page when the list has one page).  ``create_app`` installs the sources below; an area adds
its own with ``site_of(app).footprint_targets.append(source)``.

``/impronta`` measures the site by calling the app's own ASGI callable from inside its
handler, once per content version (the result is cached in ``Site.footprint``).  The
page measures itself too: while a measurement runs, a nested request for ``/impronta``
renders the figures gathered so far instead of starting another measurement, and the page
is measured twice so that its own row is off by no more than a few digits.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import statistics
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb import search
from greenweb.asgi_client import request
from greenweb.bulletin import queries
from greenweb.changes import EVERYTHING
from greenweb.db import content_version
from greenweb.footprint import carbon
from greenweb.footprint.budget import Budget, check, default_budget_path, load_budget
from greenweb.footprint.carbon import CarbonModel
from greenweb.footprint.carbon_txt import carbon_txt
from greenweb.footprint.chart import Chart, bar_chart
from greenweb.footprint.measure import (
    PageResult,
    Report,
    Skipped,
    Target,
    measure_page,
    measure_site,
)
from greenweb.italian import ROME, format_grams, format_int, format_number
from greenweb.newsletter.footprint import EmailFootprint, newest_numero_email
from greenweb.web.shows import shows
from greenweb.web.site import TargetSource, site_of
from greenweb.web.templating import render
from greenweb.web.urls import path_for

logger = logging.getLogger("greenweb")


# Figures of the median web page, cited on /impronta (HTTP Archive, Web Almanac 2025).
ALMANAC_DESKTOP_KB = 2412
ALMANAC_MOBILE_KB = 2164
ALMANAC_DESKTOP_BYTES = ALMANAC_DESKTOP_KB * 1024  # the Almanac's KB are 1,024 bytes
ALMANAC_GRAMS_PER_VISIT = 0.36
ALMANAC_PAGE_WEIGHT_URL = "https://almanac.httparchive.org/en/2025/page-weight"

NOT_FOUND_PATH = "/pagina-che-non-esiste"  # deliberately matches no route
PAGE_REPEATS = 0  # /impronta shows no CPU figures: skip the repeated requests


# --- target sources --------------------------------------------------------------------


async def bulletin_targets(app: Starlette) -> list[Target | Skipped]:
    """Home, the bulletin's list (page 1 and the last page), an item, deadlines, events,
    search results (page 1 and the last page), the feeds."""
    conn = site_of(app).db.reader
    found: list[Target | Skipped] = [
        Target("home", path_for(app, "home"), "Pagina iniziale"),
        Target("bulletin", path_for(app, "bulletin"), "Bollettino"),
    ]
    pages = max(1, math.ceil(await queries.count_items(conn) / queries.PER_PAGE))
    if pages > 1:
        found.append(
            Target(
                "bulletin_deep",
                path_for(app, "bulletin", {"page": pages}),
                f"Bollettino, pagina {pages}",
            )
        )
    else:
        found.append(Skipped("bulletin_deep", "the bulletin has a single page"))
    latest = await queries.latest_items(conn, 1)
    if latest:
        found.append(
            Target(
                "bulletin_item",
                path_for(app, "bulletin_item", slug=latest[0].slug),
                "Una notizia del bollettino",
            )
        )
    else:
        found.append(Skipped("bulletin_item", "the bulletin has no items"))
    found.append(Target("deadlines", path_for(app, "deadlines"), "Scadenze"))
    found.append(Target("events", path_for(app, "events"), "Eventi"))
    word = _search_word(latest[0].title if latest else "")
    # The search of the whole site (its groups), and the last page of the bulletin's hits.
    found.append(Target("search", path_for(app, "search", {"q": word}), f"Ricerca «{word}»"))
    results = await search.search(conn, word, search.BULLETIN)
    if results.pages > 1:
        where = {"q": word, "in": search.BULLETIN.name, "page": results.pages}
        found.append(
            Target(
                "search_deep",
                path_for(app, "search", where),
                f"Ricerca «{word}» nel bollettino, pagina {results.pages}",
            )
        )
    else:
        found.append(Skipped("search_deep", f"the search for {word!r} has a single page"))
    found.append(Target("feed", path_for(app, "feed"), "Feed Atom"))
    found.append(Target("calendar", path_for(app, "calendar"), "Calendario iCalendar"))
    return found


def _search_word(title: str) -> str:
    """A word of the newest item's title, so that the search has results."""
    words = [w for w in re.findall(r"\w+", title.lower()) if len(w) >= 4]
    return max(words, key=len) if words else "torino"


async def site_targets(app: Starlette) -> list[Target | Skipped]:
    """The footprint's own pages, the files for machines, and the error page."""
    return [
        Target("footprint", path_for(app, "footprint"), "Impronta"),
        Target("carbon_txt", path_for(app, "carbon_txt"), "carbon.txt"),
        Target("sitemap", path_for(app, "sitemap"), "Mappa del sito (XML)"),
        Target("robots", path_for(app, "robots"), "robots.txt"),
        Target("not_found", NOT_FOUND_PATH, "Pagina non trovata", expected_status=404),
    ]


# The question board's public pages: measured when the board is part of the app.  Found by
# path, so this works before the board registers a source of its own (which should then
# replace this one); the question id is the first question linked from the list.
BOARD_PAGES = (
    ("questions", "/domande", "Domande sul clima"),
    ("question_new", "/domande/nuova", "Fai una domanda"),
    ("resources", "/risorse", "Risorse"),
    ("pills", "/pillole", "Pillole teatrali"),
    ("moderation_log", "/moderazione/registro", "Registro della moderazione"),
)
_QUESTION_LINK = re.compile(r'href="(/domande/\d+)"')


async def board_targets(app: Starlette) -> list[Target | Skipped]:
    paths = {getattr(route, "path", None) for route in app.routes}
    if "/domande" not in paths:
        return [Skipped("board", "the question board is not part of this app")]
    found: list[Target | Skipped] = []
    for target_id, path, label in BOARD_PAGES:
        if path in paths:
            found.append(Target(target_id, path, label))
    listing = await request(
        app,
        "/domande",
        base_url=site_of(app).settings.base_url,
        headers=[(b"accept-encoding", b"identity")],
        raise_app_errors=False,
    )
    match = _QUESTION_LINK.search(listing.body.decode("utf-8", "replace"))
    if match and listing.content_encoding is None:
        found.insert(1, Target("question", match.group(1), "Una domanda"))
    else:
        found.append(Skipped("question", "no question is linked from /domande"))
    return found


DEFAULT_SOURCES: tuple[TargetSource, ...] = (bulletin_targets, board_targets, site_targets)


async def collect_targets(app: Starlette) -> tuple[list[Target], list[Skipped]]:
    """Every target of every source registered on the app, ids unique, in order."""
    targets: list[Target] = []
    skipped: list[Skipped] = []
    for source in site_of(app).footprint_targets:
        for found in await source(app):
            if isinstance(found, Skipped):
                skipped.append(found)
            elif any(t.id == found.id for t in targets):
                raise ValueError(f"two footprint targets share the id {found.id!r}")
            else:
                targets.append(found)
    # Measuring /impronta measures every other page and so warms their caches: measured
    # before them, it would turn their cold (uncached) figures into warm ones.
    targets.sort(key=lambda target: target.id == "footprint")
    return targets, skipped


# --- /impronta -----------------------------------------------------------------------------

# True inside a measurement started by /impronta, also in the nested requests it makes.
_measuring: ContextVar[bool] = ContextVar("greenweb_footprint_measuring", default=False)

# The page shows first and repeat views only: the document as served for br is enough.
PAGE_ENCODINGS = ("br",)


class FootprintCache:
    """The last measurement of the site and the content version it belongs to.

    The first request measures the site before answering.  After a content change the
    previous figures are shown (marked ``no-store``, so no cache keeps the stale page)
    while one background task measures again; the next request shows the new figures.
    """

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.version: int | None = None
        self.report: Report | None = None
        self.partial: Report | None = None  # shown by nested requests while measuring
        self.refreshing: asyncio.Task[None] | None = None
        self.measurements = 0  # how many times the site was measured (tests read it)

    async def measure(self, app: Starlette, state: dict[str, Any], version: int) -> None:
        async with self.lock:
            if self.report is not None and self.version == version:
                return
            token = _measuring.set(True)
            try:
                report = await _measure(app, state, self)
            finally:
                _measuring.reset(token)
            self.report, self.version, self.partial = report, version, None
            self.measurements += 1

    def refresh_soon(self, app: Starlette, state: dict[str, Any], version: int) -> None:
        if self.refreshing is not None and not self.refreshing.done():
            return
        self.refreshing = asyncio.create_task(self._refresh(app, state, version))

    async def _refresh(self, app: Starlette, state: dict[str, Any], version: int) -> None:
        try:
            await self.measure(app, state, version)
        except Exception:
            # Nobody awaits this task: say what went wrong; the old figures stay.
            logger.exception("measuring the site for /impronta failed")

    async def settled(self) -> None:
        """Wait for a background measurement, if one runs (tests, shutdown)."""
        if self.refreshing is not None:
            await self.refreshing


def model_for(app: Starlette) -> CarbonModel:
    return site_of(app).settings.carbon_model


async def current_report(request: Request) -> tuple[Report | None, bool]:
    """The figures to show, and whether they belong to the current content version."""
    cache = site_of(request).footprint
    if _measuring.get():
        return cache.partial, False
    version = await content_version(site_of(request).db.reader)
    state = dict(request.scope.get("state") or {})
    if cache.report is None:
        await cache.measure(request.app, state, version)
    elif cache.version != version:
        cache.refresh_soon(request.app, state, version)
    return cache.report, cache.version == version


async def _measure(app: Starlette, state: dict[str, Any], cache: FootprintCache) -> Report:
    base_url = site_of(app).settings.base_url
    targets, skipped = await collect_targets(app)
    options: dict[str, Any] = {
        "model": model_for(app),
        "base_url": base_url,
        "state": state,
        "repeats": PAGE_REPEATS,
        "encodings": PAGE_ENCODINGS,
    }
    others = [t for t in targets if t.id != "footprint"]
    report = await measure_site(app, others, skipped=skipped, **options)
    cache.partial = report
    me = next((i for i, t in enumerate(targets) if t.id == "footprint"), None)
    if me is None:
        return report
    for _ in range(2):
        # First without a row of its own, then with the row the first pass measured: the
        # second figure is off only by the digits that changed.
        own = await measure_page(app, targets[me], **options)
        pages = list(report.pages)
        pages.insert(me, own)
        cache.partial = replace(report, pages=tuple(pages))
    return cache.partial


@dataclass(frozen=True)
class Row:
    label: str
    path: str
    link: bool
    bytes: str
    requests: int
    repeat_requests: int
    grams: str
    rating: str
    within: bool | None


def _rows(request: Request, report: Report) -> list[Row]:
    budget = site_of(request).footprint_budget
    failing = {v.page for v in check(report, budget)} if budget is not None else set()
    return [
        Row(
            label=p.target.label,
            path=p.target.path,
            link=p.target.expected_status == 200,
            bytes=format_int(p.first_view.wire_bytes),
            requests=p.first_view.requests,
            repeat_requests=p.repeat_view.requests,
            grams=format_grams(p.first_view.co2e_g),
            rating=p.first_view.rating,
            within=None if budget is None else p.id not in failing,
        )
        for p in report.pages
    ]


def _comparison(pages: Sequence[PageResult]) -> dict[str, str]:
    """The median greenweb page against the median web page (empty without figures)."""
    html_pages = [p for p in pages if p.is_html and p.status == 200]
    if not html_pages:
        return {"median_bytes": "", "median_grams": "", "times_lighter": "", "times_less_co2": ""}
    median_bytes = statistics.median(p.first_view.wire_bytes for p in html_pages)
    median_grams = statistics.median(p.first_view.co2e_g for p in html_pages)
    return {
        "median_bytes": format_int(median_bytes),
        "median_grams": format_grams(median_grams),
        "times_lighter": format_int(ALMANAC_DESKTOP_BYTES / median_bytes),
        "times_less_co2": format_int(ALMANAC_GRAMS_PER_VISIT / median_grams)
        if median_grams
        else "",
    }


def _chart(pages: Sequence[PageResult], email: EmailFootprint | None = None) -> Chart | None:
    """Every measured page's bytes beside the median web page (none before a measurement).

    Pages are the HTML documents, as the budget's ``[page]`` limits: feeds and files for
    programs are not pages a visitor opens. The reference is the same median desktop page
    the comparison cites.
    """
    rows = [(p.target.label, p.first_view.wire_bytes) for p in pages if p.is_html]
    if not rows:
        return None
    if email is not None:
        rows.append((f"E-mail del numero {email.number}", email.bytes_each))
    return bar_chart(rows, ("Pagina web mediana, desktop", ALMANAC_DESKTOP_BYTES))


async def footprint_GET(request: Request) -> Response:
    # Every page's weight: any change to any page may change a figure.
    shows(request, EVERYTHING)
    report, current = await current_report(request)
    headers = {}
    if not current:
        # A render made while measuring (the page measuring itself) is incomplete, one made
        # after a content change shows the previous figures: no cache may keep either.
        # While measuring itself, the header makes the page's own row 25 bytes heavier than
        # the page really is: an error on the safe side.
        headers["Cache-Control"] = "no-store"
    model = model_for(request.app)
    pages = report.pages if report else ()
    site = site_of(request)
    email = await newest_numero_email(site.db.reader, site.settings)
    context = {
        "email": email,
        "rows": _rows(request, report) if report else [],
        "measured_at": report.generated_at.astimezone(ROME) if report else None,
        **_comparison(pages),
        "chart": _chart(pages, email),
        "almanac_desktop_kb": format_int(ALMANAC_DESKTOP_KB),
        "almanac_mobile_kb": format_int(ALMANAC_MOBILE_KB),
        "almanac_grams": format_number(ALMANAC_GRAMS_PER_VISIT),
        "almanac_url": ALMANAC_PAGE_WEIGHT_URL,
        "grid_label": model.grid_label,
        "grid_g_per_kwh": format_number(model.grid.network),
        "is_global_grid": model.grid == carbon.GLOBAL,
        "green_hosting": model.green_hosting,
        "co2js_version": carbon.CO2JS_VERSION,
        "operational": {k: format_number(v) for k, v in carbon.OPERATIONAL_KWH_PER_GB.items()},
        "embodied": {k: format_number(v) for k, v in carbon.EMBODIED_KWH_PER_GB.items()},
        "embodied_grid": format_number(carbon.GLOBAL_GRID_INTENSITY),
        "no_js": all(p.js_bytes == 0 for p in pages),
        "no_cookies": all(p.cookies == 0 for p in pages),
        "no_third_party": all(not p.third_party for p in pages),
        "no_fonts": all(p.font_bytes == 0 for p in pages),
    }
    return render(request, "footprint/impronta.html", context, headers=headers)


# --- /carbon.txt ---------------------------------------------------------------------------


async def carbon_txt_GET(request: Request) -> Response:
    shows(request)  # from the settings only
    settings = site_of(request).settings
    body = carbon_txt(
        disclosure_url=settings.base_url + path_for(request.app, "footprint"),
        hosting_provider=settings.hosting_provider,
    )
    return Response(body, media_type="text/plain; charset=utf-8")


def load_site_budget() -> Budget | None:
    """The budget /impronta holds the pages to, read when the app is built.

    Read then, so a broken budget file stops the app at start-up; without one (an install
    that does not ship it), /impronta leaves out its sentence on the budget.
    """
    path = default_budget_path()
    return load_budget(path) if path.is_file() else None


routes = [
    Route("/impronta", footprint_GET, name="footprint"),
    Route("/carbon.txt", carbon_txt_GET, name="carbon_txt"),
]
