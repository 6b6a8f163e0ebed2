"""``create_app(settings)``: builds the whole application, with no import-time state."""

from __future__ import annotations

import time
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
from greenweb.paths import board_data_dir
from greenweb.resources import load_board_data
from greenweb.web import assets, bulletin, errors, feeds, moderation
from greenweb.web import board as board_web
from greenweb.web.templating import make_templates


def create_app(
    settings: Settings,
    *,
    today: Callable[[], date] | None = None,
    clock: Callable[[], float] | None = None,
) -> Starlette:
    """The greenweb ASGI app. ``today`` and ``clock`` (Unix time) may be replaced in tests
    to fix the date or move time forward without sleeping."""
    routes: list[BaseRoute] = [
        *bulletin.routes,
        *feeds.routes,
        *assets.routes,
        *board_web.routes,
        *moderation.routes,
    ]
    db = Database(settings.db_path)
    now: Callable[[], float] = clock or time.time

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            # The board's topics and seed resources: idempotent, writes only what changed.
            await load_board_data(db, board_data_dir(), now())
            yield
        finally:
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
            ("questions", "Dubbi sul clima"),
            ("resources", "Risorse"),
        ],
        "footer_links": [("moderation_log", "Registro della moderazione")],
    }
    app.state.settings = settings
    app.state.db = db
    app.state.assets = registry
    app.state.today = today or today_in_rome
    app.state.clock = now
    app.state.templates = make_templates(app.router, template_globals)
    app.state.sitemap_pages = ["home", "bulletin", "deadlines", "events"]
    app.state.sitemap_sources = []
    app.state.sitemap_pages.extend(board_web.SITEMAP_PAGES)
    app.state.sitemap_sources.append(board_web.sitemap_urls)
    return app
