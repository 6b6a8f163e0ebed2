"""The page catalogue (conftest.SITE_PAGES) keeps up with the site's pages.

axe, the validator, the budget and the screenshots check only the pages listed there: a
new board or moderation page that nobody adds would go unchecked. Pages outside the board
keep their own list (the first round's), so only these two areas are held to it here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.routing import Route

from greenweb.web.views import board, board_open, moderation, moderation_resources, staff

pytestmark = pytest.mark.browser


def page_routes() -> list[Route]:
    return [
        route
        for route in [
            *board.routes,
            *board_open.routes,
            *staff.routes,
            *moderation.routes,
            *moderation_resources.routes,
        ]
        if isinstance(route, Route)
        and "GET" in (route.methods or set())
        # Files, not pages (dati.csv, ebook.epub): tests/web/views/test_board_open.py.
        and "." not in route.path
    ]


def test_every_board_and_moderation_page_is_in_the_catalogue(site_pages: Any) -> None:
    paths = [urlsplit(page.path).path for page in site_pages]
    missing = [
        route.path for route in page_routes() if not any(route.path_regex.match(p) for p in paths)
    ]
    assert not missing, f"pages no check visits (add them to SITE_PAGES): {missing}"


def test_moderation_pages_in_the_catalogue_are_seen_logged_in(site_pages: Any) -> None:
    public = {"/moderazione/accesso", "/moderazione/registro"}
    for page in site_pages:
        path = urlsplit(page.path).path
        if path.startswith("/moderazione") and path not in public:
            assert page.moderator, f"{page.name} would only show the login redirect"
