"""Pages of the bulletin: home, list, item, deadlines, events (its search: views/search.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import aiosqlite
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.bulletin import queries
from greenweb.bulletin.items import KINDS
from greenweb.changes import BULLETIN
from greenweb.web.errors import bad_request, gone, not_found
from greenweb.web.params import existing_page, page_number
from greenweb.web.shows import shows
from greenweb.web.site import site_of
from greenweb.web.templating import render


def today(request: Request) -> date:
    return site_of(request).today()


async def home_GET(request: Request) -> Response:
    shows(request, BULLETIN)
    conn = site_of(request).db.reader
    day = today(request)
    return render(
        request,
        "home.html",
        {
            "today": day,
            "open_calls": await queries.open_calls(conn, day, limit=5),
            "events": await queries.upcoming_events(conn, day, limit=3),
            "latest": await queries.latest_items(conn, 6),
        },
    )


async def bulletin_GET(request: Request) -> Response:
    shows(request, BULLETIN)
    conn = site_of(request).db.reader
    kind = request.query_params.get("tipo") or None
    if kind is not None and kind not in KINDS:
        raise bad_request("Tipo sconosciuto: scegli tra bandi, premi, eventi e notizie.")
    tag = request.query_params.get("tag") or None
    if tag is not None and len(tag) > 40:
        raise bad_request("Etichetta troppo lunga.")
    number = page_number(request)
    tags = await queries.tag_counts(conn)
    # An unknown tag is 404; a known tag with no item of the chosen kind is an empty list,
    # since the kind links of every tag page lead there.
    if tag is not None and tag not in dict(tags):
        raise not_found("Nessuna notizia ha questa etichetta.")
    page = existing_page(
        await queries.list_items(conn, kind=kind, tag=tag, page=number), "del bollettino"
    )
    return render(
        request,
        "bulletin/list.html",
        {
            "page": page,
            "kind": kind,
            "tag": tag,
            "kinds": KINDS,
            "tags": tags,
            "today": today(request),
        },
    )


async def item_GET(request: Request) -> Response:
    shows(request, BULLETIN)
    conn = site_of(request).db.reader
    slug = request.path_params["slug"]
    item = await queries.get_item(conn, slug)
    if item is None:
        if await queries.is_withdrawn(conn, slug):
            raise gone("Questa notizia è stata ritirata dalla redazione del bollettino.")
        raise not_found("Questa notizia del bollettino non esiste.")
    return render(request, "bulletin/item.html", {"item": item, "today": today(request)})


RunsQuery = Callable[[aiosqlite.Connection, date, int], Awaitable[queries.TwoRunPage]]


async def _dated_list_GET(
    request: Request, query: RunsQuery, page: str, names: tuple[str, str, str]
) -> Response:
    """A list in two runs by date (still to come, then past): ``page`` names the template
    and the 404's words; ``names`` are the template's names for the first run's total,
    the first run and the second."""
    shows(request, BULLETIN)
    day = today(request)
    runs = await query(site_of(request).db.reader, day, page_number(request))
    if not runs.page.exists:
        raise not_found(f"Questa pagina {DATED_LISTS[page]} non esiste.")
    total, first, second = names
    context = {"today": day, "page": runs.page, total: runs.first_total, first: runs.first}
    return render(request, f"bulletin/{page}.html", {**context, second: runs.second})


DATED_LISTS = {"deadlines": "delle scadenze", "events": "degli eventi"}


async def deadlines_GET(request: Request) -> Response:
    names = ("open_total", "open_calls", "closed_calls")
    return await _dated_list_GET(request, queries.deadlines_page, "deadlines", names)


async def events_GET(request: Request) -> Response:
    names = ("upcoming_total", "upcoming", "past")
    return await _dated_list_GET(request, queries.events_page, "events", names)


routes = [
    Route("/", home_GET, name="home"),
    Route("/bollettino", bulletin_GET, name="bulletin"),
    Route("/bollettino/{slug}", item_GET, name="bulletin_item"),
    Route("/scadenze", deadlines_GET, name="deadlines"),
    Route("/eventi", events_GET, name="events"),
]
