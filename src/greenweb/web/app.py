"""``create_app(settings)``: builds the whole application, with no import-time state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute

from greenweb import __version__
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.italian import today_in_rome
from greenweb.web import assets, bulletin, errors, feeds, footprint
from greenweb.web.templating import make_templates


def create_app(settings: Settings, *, today: Callable[[], date] | None = None) -> Starlette:
    """The greenweb ASGI app. ``today`` may be replaced in tests to fix the date."""
    routes: list[BaseRoute] = [*bulletin.routes, *feeds.routes, *footprint.routes, *assets.routes]
    db = Database(settings.db_path)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await app.state.footprint.settled()  # a measurement for /impronta reads the db
            await db.close()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
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
        "footer_links": [("footprint", "Impronta")],
    }
    app.state.settings = settings
    app.state.db = db
    app.state.assets = registry
    app.state.today = today or today_in_rome
    app.state.templates = make_templates(app.router, template_globals)
    app.state.sitemap_pages = ["home", "bulletin", "deadlines", "events", "footprint"]
    app.state.sitemap_sources = []
    # Measured addresses: areas append their own source to app.state.footprint_targets.
    footprint.install(app)
    return app
