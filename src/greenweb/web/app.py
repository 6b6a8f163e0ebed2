"""``create_app(settings)``: builds the whole application, with no import-time state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from greenweb import __version__
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.italian import today_in_rome
from greenweb.web import assets, bulletin, errors, export, feeds
from greenweb.web.conditional import ConditionalMiddleware
from greenweb.web.page_cache import ContentVersion, PageCacheMiddleware, PageStore
from greenweb.web.representation import RepresentationMiddleware
from greenweb.web.stamp import CarbonModel
from greenweb.web.templating import make_templates


def create_app(settings: Settings, *, today: Callable[[], date] | None = None) -> Starlette:
    """The greenweb ASGI app. ``today`` may be replaced in tests to fix the date."""
    routes: list[BaseRoute] = [*bulletin.routes, *feeds.routes, *assets.routes]
    db = Database(settings.db_path)
    day = today or today_in_rome
    version = ContentVersion(settings.db_path)
    page_store = PageStore(settings.page_cache_bytes)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            version.close()
            await db.close()

    # Outermost first. Conditional turns a matching 200 into a 304 whatever produced it;
    # the page cache answers kept pages before anything else runs; representation stamps,
    # compresses and tags what the routes return (error pages included).
    middleware = [
        Middleware(ConditionalMiddleware),
        Middleware(PageCacheMiddleware, store=page_store, version=version, today=day),
        Middleware(
            RepresentationMiddleware,
            max_age=settings.page_max_age,
            model=CarbonModel.from_settings(settings),
        ),
    ]

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=middleware,
        exception_handlers={HTTPException: errors.http_exception, 500: errors.server_error},
    )
    registry = assets.AssetRegistry(assets.load_assets())
    template_globals: dict[str, Any] = {
        "static_url": registry.url,
        "settings": settings,
        "version": __version__,
        # Areas add their own entries in create_app: (route name, label).
        "nav_items": [
            ("bulletin", "Bollettino"),
            ("deadlines", "Scadenze"),
            ("events", "Eventi"),
        ],
        "footer_links": [],
    }
    app.state.settings = settings
    app.state.db = db
    app.state.assets = registry
    app.state.today = day
    app.state.templates = make_templates(app.router, template_globals)
    app.state.sitemap_pages = ["home", "bulletin", "deadlines", "events"]
    app.state.sitemap_sources = []
    app.state.page_store = page_store
    # Other areas append async callables (app -> URL paths) for `greenweb export`.
    app.state.export_sources = [export.core_urls]
    return app
