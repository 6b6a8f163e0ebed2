"""/cerca: the site's one search, over the bulletin, the questions and the resources.

Without ``in`` the page shows the first hits of each kind, each group with a link to all
of its hits; with ``in`` it shows one kind, paginated. The page is the same for everyone
(no token) and declares what it shows, so the page cache keeps it until one of those
changes: a moderator's answer, for one, makes a kept results page show it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb import changes, search
from greenweb.search import KINDS, MAX_QUERY_CHARS, fts_query
from greenweb.web.errors import bad_request, not_found
from greenweb.web.params import page_number
from greenweb.web.shows import shows
from greenweb.web.site import site_of
from greenweb.web.templating import render

TOP = 3  # hits of each kind on the page that shows them all
TEMPLATE = "search.html"
UNKNOWN_KIND = "Dove vuoi cercare? Scegli tra bollettino, domande e risorse."
NO_PAGE = "Questa pagina dei risultati non esiste."


async def search_GET(request: Request) -> Response:
    shows(request, changes.BULLETIN, changes.QUESTIONS, changes.RESOURCES)
    query = request.query_params.get("q", "").strip()
    scope = request.query_params.get("in") or None
    if scope is not None and scope not in KINDS:
        raise bad_request(UNKNOWN_KIND)
    context: dict[str, Any] = {
        "query": query,
        "scope": scope,
        "kinds": KINDS,
        "groups": None,
        "page": None,
        "error": None,
        "no_words": False,
    }
    if len(query) > MAX_QUERY_CHARS:
        context["query"] = query[:MAX_QUERY_CHARS]
        context["error"] = f"La ricerca può contenere al massimo {MAX_QUERY_CHARS} caratteri."
        return render(request, TEMPLATE, context, status_code=400)
    number = page_number(request)
    if not query:
        return render(request, TEMPLATE, context)
    conn = site_of(request).db.reader
    context["no_words"] = fts_query(query) is None
    if scope is None:
        if number != 1:  # the groups are one page; their links lead to the pages of each
            raise not_found(NO_PAGE)
        context["groups"] = await search.overview(conn, query, top=TOP)
    else:
        page = await search.search(conn, query, KINDS[scope], page=number)
        if not page.exists:
            raise not_found(NO_PAGE)
        context["page"] = page
    return render(request, TEMPLATE, context)


routes = [Route("/cerca", search_GET, name="search")]
