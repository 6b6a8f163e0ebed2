"""The bulletin's numeri as visitors see them: the archive, a numero's page, the Atom feed.

Also what the area adds to the site's registries (:func:`register`): the sitemap, the
addresses ``greenweb export`` writes and the footprint's measured targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.bulletin import numeri, syndication
from greenweb.changes import BULLETIN, NUMERI
from greenweb.footprint.measure import Skipped, Target
from greenweb.web.errors import not_found
from greenweb.web.params import existing_page, page_number
from greenweb.web.shows import shows
from greenweb.web.site import Site, site_of
from greenweb.web.templating import render
from greenweb.web.urls import absolute_url, path_for, url_pattern

FEED_ENTRIES = 10
_SENTINEL = 10**17 + 7  # a row id no numero has: stands for {number} in a URL pattern


async def numeri_GET(request: Request) -> Response:
    # Titles, dates and counts of published numeri: nothing of the items' current state.
    shows(request, NUMERI)
    page = existing_page(
        await numeri.list_numeri(site_of(request).db.reader, page_number(request)), "dei numeri"
    )
    return render(request, "bulletin/numeri.html", {"page": page})


async def numero_GET(request: Request) -> Response:
    # The frozen entries, and whether each item is still published or changed since.
    shows(request, NUMERI, BULLETIN)
    site = site_of(request)
    numero = await numeri.get_numero(site.db.reader, request.path_params["number"])
    if numero is None:
        raise not_found("Questo numero del bollettino non esiste.")
    return render(request, "bulletin/numero.html", {"numero": numero, "today": site.today()})


def _numero_url_pattern(request: Request) -> str:
    return url_pattern(request, "numero", "number", _SENTINEL)


async def numeri_feed_GET(request: Request) -> Response:
    shows(request, NUMERI, BULLETIN)  # an entry links its items while they are published
    site = site_of(request)
    body = syndication.numeri_atom_feed(
        await numeri.latest_numeri(site.db.reader, FEED_ENTRIES),
        archive_url=absolute_url(request, "numeri"),
        numero_url=_numero_url_pattern(request),
        item_url=url_pattern(request, "bulletin_item", "slug", "SLUG"),
        feed_url=absolute_url(request, "numeri_feed"),
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


# --- the site's registries --------------------------------------------------------------


async def sitemap_urls(request: Request) -> list[tuple[str, datetime | None]]:
    shows(request, NUMERI)
    pattern = _numero_url_pattern(request)
    published = await numeri.published_numbers(site_of(request).db.reader)
    return [(pattern.format(number=number), updated) for number, updated in published]


async def export_paths(app: Starlette) -> Iterable[str]:
    """The archive (every page: the crawl would find them, this says so), the feed and
    every published numero."""
    conn = site_of(app).db.reader
    pages = (await numeri.list_numeri(conn)).pages
    paths = [path_for(app, "numeri", {"page": n}) for n in range(1, pages + 1)]
    paths.append(path_for(app, "numeri_feed"))
    published = await numeri.published_numbers(conn)
    return paths + [path_for(app, "numero", number=number) for number, _ in published]


async def footprint_targets(app: Starlette) -> list[Target | Skipped]:
    """The archive (page 1 and the last), the newest numero, and the feed."""
    conn = site_of(app).db.reader
    found: list[Target | Skipped] = [
        Target("numeri", path_for(app, "numeri"), "Numeri del bollettino")
    ]
    archive = await numeri.list_numeri(conn, per_page=numeri.PER_PAGE)
    if archive.pages > 1:
        last = archive.pages
        found.append(
            Target(
                "numeri_deep",
                path_for(app, "numeri", {"page": last}),
                f"Numeri del bollettino, pagina {last}",
            )
        )
    else:
        found.append(Skipped("numeri_deep", "the archive of numeri has a single page"))
    if archive.items:
        newest = archive.items[0].number
        found.append(Target("numero", path_for(app, "numero", number=newest), f"Numero {newest}"))
    else:
        found.append(Skipped("numero", "no numero is published"))
    found.append(Target("numeri_feed", path_for(app, "numeri_feed"), "Feed Atom dei numeri"))
    return found


def register(site: Site) -> None:
    """Add the numeri to the sitemap, the export and the footprint's targets."""
    site.sitemap_pages.append("numeri")
    site.sitemap_sources.append(sitemap_urls)
    site.export_sources.append(export_paths)
    site.footprint_targets.append(footprint_targets)


# Before the bulletin's routes: /bollettino/{slug} would take /bollettino/numeri.
routes = [
    Route("/bollettino/numeri", numeri_GET, name="numeri"),
    Route("/bollettino/numeri/feed.xml", numeri_feed_GET, name="numeri_feed"),
    Route("/bollettino/numeri/{number:rowid}", numero_GET, name="numero"),
]
