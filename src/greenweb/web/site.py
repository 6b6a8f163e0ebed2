"""What the app shares with its views and middleware: one typed :class:`Site` per app.

``create_app`` builds the Site once and keeps it on ``app.state``; everything else reaches
it through :func:`site_of`, given a request or the app. The fields never change after
``create_app``; the registries (sitemap pages and sources, footprint targets, export
sources) are lists each area appends to while the app is built.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.templating import Jinja2Templates

from greenweb.board import visitors
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.footprint.measure import Skipped, Target
from greenweb.web.static_files import AssetRegistry

if TYPE_CHECKING:
    # Only for the field types: these modules reach the Site through site_of themselves.
    from greenweb.footprint.budget import Budget
    from greenweb.web.middleware.page_cache import PageStore
    from greenweb.web.views.footprint import FootprintCache

_STATE_KEY = "site"

# The registries' entries, declared here so the areas that fill them import from the Site.
# `greenweb export`: an area's further URL paths.
ExportSource = Callable[[Starlette], Awaitable[Iterable[str]]]
# The sitemap: an area's further (absolute URL, last modified) pairs.
SitemapSource = Callable[[Request], Awaitable[list[tuple[str, datetime | None]]]]
# /impronta and `greenweb footprint`: an area's measured addresses.
TargetSource = Callable[[Starlette], Awaitable[list[Target | Skipped]]]


@dataclass(frozen=True)
class Site:
    settings: Settings
    db: Database
    templates: Jinja2Templates
    assets: AssetRegistry
    # The date in Rome and the Unix time; tests replace them to fix the date or move time.
    today: Callable[[], date]
    clock: Callable[[], float]
    # /.well-known/security.txt, built at start-up; None without a security contact.
    security_txt: bytes | None
    page_store: PageStore
    # Route names listed in the sitemap, and areas' sources of further (URL, modified) pairs.
    sitemap_pages: list[str]
    sitemap_sources: list[SitemapSource]
    # /impronta: the sources of measured addresses, the last measurement, the budget.
    footprint_targets: list[TargetSource]
    footprint: FootprintCache
    footprint_budget: Budget | None
    # `greenweb export`: async callables (app -> URL paths), one per area.
    export_sources: list[ExportSource]
    # /domande/regole: data/regole.md rendered, read once at start (board/rules.py).
    board_rules_html: str

    @property
    def question_limits(self) -> visitors.Limits:
        """The lengths a question and a name may have, for the board and the moderators."""
        settings = self.settings
        return visitors.Limits(
            text_min=settings.question_min_chars,
            text_max=settings.question_max_chars,
            name_max=settings.name_max_chars,
        )

    def install(self, app: Starlette) -> None:
        """Make this the Site of ``app`` (once, in ``create_app``)."""
        setattr(app.state, _STATE_KEY, self)


def installed_site(app: Starlette) -> Site | None:
    """The Site of ``app``, or None for an app ``create_app`` did not build (bare test
    apps, whose error pages are then plain text)."""
    found = getattr(app.state, _STATE_KEY, None)
    return found if isinstance(found, Site) else None


def site_of(where: HTTPConnection | Starlette) -> Site:
    """The Site of the app serving this request (or of this app)."""
    app: Starlette = where.app if isinstance(where, HTTPConnection) else where
    found = installed_site(app)
    if found is None:
        raise LookupError("this app has no Site: build it with create_app")
    return found
