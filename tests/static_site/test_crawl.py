"""What the export fetches: same-site links, less what stays with the app (nginx.conf
proxies it), and no second fetch from a route whose pages are not public."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.static_site.crawl import PrivateRoutes, left_to_app, links


def test_links_keep_same_site_paths_and_unescape_queries() -> None:
    html = (
        b'<a href="/bollettino?tipo=bando&amp;page=2">x</a><a href="https://example.org/">e</a>'
        b'<a href="//cdn.example/x">c</a><a href="http://t/eventi#oggi">a</a>'
        b'<a href="mailto:a@b">m</a><link href="/static/s.css">'
    )
    assert links(html, "http://t") == ["/bollettino?tipo=bando&page=2", "/eventi", "/static/s.css"]


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/bollettino",
        "/bollettino?page=1",
        "/bollettino?tipo=bando",
        "/domande?ordine=condivise&tema=clima",
        "/bollettino/horizon-europe",
        "/feed.xml",
        "/moderazione-non-e-questa",
    ],
)
def test_pages_and_first_pages_of_lists_are_exported(target: str) -> None:
    assert left_to_app(target) is None


@pytest.mark.parametrize(
    "target",
    [
        "/cerca?q=bando",
        "/impronta",
        "/moderazione",
        "/moderazione/registro",
        "/moderazione/registro?page=3",
        "/redazione",
        "/redazione/nuova",
        "/bollettino?page=2",
        "/domande?ordine=condivise&tema=clima&page=2",
        "/bollettino?page=2&tipo=bando",
    ],
)
def test_search_footprint_moderation_and_later_list_pages_stay_with_the_app(
    target: str,
) -> None:
    assert left_to_app(target) is not None


def _page(request: Request) -> Response:
    return Response("x")


def test_a_route_once_found_private_is_private_for_every_page() -> None:
    app = Starlette(
        routes=[Route("/domande/{id:int}", _page), Route("/domande", _page)],
    )
    private = PrivateRoutes(app)
    assert private.reason("/domande/7") is None
    reason = private.learn("/domande/7", "200, not public")
    assert reason == "200, not public (every page of /domande/{id:int})"
    assert private.reason("/domande/8") == reason
    assert private.reason("/domande") is None
    # A path no route answers is refused alone.
    assert private.learn("/altro", "200, not public") == "200, not public"
    assert private.reason("/altro") is None
