"""The question board in the open: its data set (/domande/dati, .csv, .json), its e-book
(/domande/ebook.epub) and its moderation rules (/domande/regole).

Everything here is the same for every visitor and cached by the page cache until what it
shows changes (the e-book and the data page: a question or a resource; the data files: the
"anch'io" counts too); the conditional middleware answers a matching If-None-Match with
304. The files' bytes depend only on the content (no clock), so every worker serves the
same ETag.

Also what the area adds to the site's registries (:func:`register`): the sitemap and the
addresses ``greenweb export`` writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb import changes
from greenweb.board.ebook import site_ebook
from greenweb.board.epub import MEDIA_TYPE as EPUB_MEDIA_TYPE
from greenweb.board.export import (
    PUBLIC_FIELDS,
    DataSet,
    content_modified,
    export_questions,
    iso,
    licence_url,
    published_count,
    to_csv,
    to_json,
)
from greenweb.footprint.measure import Skipped, Target
from greenweb.web.shows import shows
from greenweb.web.site import Site, site_of
from greenweb.web.templating import render
from greenweb.web.urls import path_for

CSV_NAME = "dubbi-sul-clima.csv"
JSON_NAME = "dubbi-sul-clima.json"
EBOOK_NAME = "dubbi-sul-clima.epub"


async def _data(request: Request) -> DataSet:
    shows(request, changes.QUESTIONS, changes.COUNTS, changes.RESOURCES)
    site = site_of(request)
    return await export_questions(site.db.reader, licence=site.settings.data_license)


def _licence_link(licence: str) -> str:
    return f'<{licence_url(licence)}>; rel="license"'


async def open_data_GET(request: Request) -> Response:
    # Only how many and how recent, not the data itself: 10,000 questions take 0.6 s to
    # read and write out, and the page shows no count, so a vote leaves it kept.
    shows(request, changes.QUESTIONS, changes.RESOURCES)
    site = site_of(request)
    conn = site.db.reader
    modified = await content_modified(conn)
    licence = site.settings.data_license
    return render(
        request,
        "board/open_data.html",
        {
            "count": await published_count(conn),
            "fields": PUBLIC_FIELDS,
            "licence": licence,
            "licence_url": licence_url(licence),
            "version": iso(modified) if modified else None,
            "modified": datetime.fromtimestamp(modified, UTC) if modified else None,
        },
    )


async def _data_file(
    request: Request, write: Callable[[DataSet], bytes], media_type: str, disposition: str
) -> Response:
    """One of the data set's files, with its licence in a ``Link`` header."""
    data = await _data(request)
    return Response(
        write(data),
        media_type=media_type,
        headers={"Content-Disposition": disposition, "Link": _licence_link(data.licence)},
    )


async def data_csv_GET(request: Request) -> Response:
    disposition = f'attachment; filename="{CSV_NAME}"'
    return await _data_file(request, to_csv, "text/csv; charset=utf-8", disposition)


async def data_json_GET(request: Request) -> Response:
    disposition = f'inline; filename="{JSON_NAME}"'
    return await _data_file(request, to_json, "application/json", disposition)


async def ebook_GET(request: Request) -> Response:
    shows(request, changes.QUESTIONS, changes.RESOURCES)
    site = site_of(request)
    body = await site_ebook(site.db.reader, site.settings)
    return Response(
        body,
        media_type=EPUB_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{EBOOK_NAME}"',
            "Link": _licence_link(site.settings.data_license),
        },
    )


async def rules_GET(request: Request) -> Response:
    shows(request)  # the rules file and the settings, both read at start
    return render(request, "board/rules.html", {"rules_html": site_of(request).board_rules_html})


# --- the site's registries --------------------------------------------------------------

PAGES = ("open_data", "board_rules")
FILES = ("open_data_csv", "open_data_json", "ebook")


async def export_paths(app: Starlette) -> Iterable[str]:
    return [path_for(app, name) for name in (*PAGES, *FILES)]


async def footprint_targets(app: Starlette) -> list[Target | Skipped]:
    """The two pages; the e-book, a download, is a line of its own in `greenweb footprint`,
    checked against [ebook] (cli/footprint.py)."""
    return [
        Target("open_data", path_for(app, "open_data"), "Dati aperti delle domande"),
        Target("board_rules", path_for(app, "board_rules"), "Regole della moderazione"),
    ]


def register(site: Site) -> None:
    """Add the pages to the sitemap and the footprint's targets, and the pages and files to
    the export."""
    site.sitemap_pages.extend(PAGES)
    site.export_sources.append(export_paths)
    site.footprint_targets.append(footprint_targets)


# Before the board's routes, to be safe from any pattern under /domande.
routes = [
    Route("/domande/dati", open_data_GET, name="open_data"),
    Route("/domande/dati.csv", data_csv_GET, name="open_data_csv"),
    Route("/domande/dati.json", data_json_GET, name="open_data_json"),
    Route("/domande/ebook.epub", ebook_GET, name="ebook"),
    Route("/domande/regole", rules_GET, name="board_rules"),
]
