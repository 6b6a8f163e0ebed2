"""``create_app(settings)``: builds the whole application, with no import-time state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from greenweb import __version__
from greenweb.board.rules import load_rules
from greenweb.board.seed import load_board_data
from greenweb.changes import ChangeLog
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.italian import today_in_rome
from greenweb.newsletter.delivery import Sender
from greenweb.paths import board_data_dir
from greenweb.web import errors
from greenweb.web.middleware import access_log, limits, security_headers, slashes
from greenweb.web.middleware.conditional import ConditionalMiddleware
from greenweb.web.middleware.page_cache import PageCacheMiddleware, PageStore
from greenweb.web.middleware.representation import RepresentationMiddleware
from greenweb.web.middleware.schedule import ScheduledPublishingMiddleware
from greenweb.web.site import Site, site_of
from greenweb.web.static_files import AssetRegistry, load_assets
from greenweb.web.templating import make_templates
from greenweb.web.views import (
    assets,
    board_feeds,
    board_open,
    bulletin,
    feeds,
    footprint,
    moderation,
    moderation_resources,
    newsroom,
    newsroom_mail,
    newsroom_numeri,
    numeri,
    search,
    staff,
    subscription,
    wellknown,
)
from greenweb.web.views import board as board_web


def create_app(
    settings: Settings,
    *,
    today: Callable[[], date] | None = None,
    clock: Callable[[], float] | None = None,
) -> Starlette:
    """The greenweb ASGI app. ``today`` and ``clock`` (Unix time) may be replaced in tests
    to fix the date or move time forward without sleeping."""
    routes: list[BaseRoute] = [
        *numeri.routes,  # before the bulletin's: /bollettino/{slug} would take its paths
        *bulletin.routes,
        *search.routes,
        *feeds.routes,
        *footprint.routes,
        *assets.routes,
        *board_open.routes,
        *board_web.routes,
        *board_feeds.routes,
        *staff.routes,
        *moderation.routes,
        *moderation_resources.routes,
        *newsroom.routes,
        *newsroom_numeri.routes,
        *newsroom_mail.routes,
        *subscription.routes,
        *wellknown.routes,
        *slashes.routes,  # last: it answers only what no other route matches
    ]
    db = Database(settings.db_path)
    now: Callable[[], float] = clock or time.time
    day = today or today_in_rome
    changes = ChangeLog(settings.db_path)
    page_store = PageStore(settings.page_cache_bytes)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        mail: asyncio.Task[None] | None = None
        try:
            # The board's topics and seed resources: idempotent, writes only what changed.
            await load_board_data(db, board_data_dir(), now())
            if settings.mail_delivery == "serve":
                # Every worker runs one; the sender's lease lets one of them send at a time.
                mail = asyncio.create_task(Sender(db, settings, clock=now).run())
            yield
        finally:
            if mail is not None:
                mail.cancel()
                with suppress(asyncio.CancelledError):
                    await mail
            await site_of(app).footprint.settled()  # a measurement for /impronta reads the db
            changes.close()
            await db.close()

    secure_headers = security_headers.security_headers(settings)
    # Hardening, outermost first; other middleware goes after it. The access log sees
    # every answer, refusals included; the security headers reach every response the
    # inner layers send (cached pages and 304s too; the 500 page gets them from its
    # handler); the limits refuse a request before anything inside reads its body.
    hardening_middleware = [
        Middleware(access_log.AccessLogMiddleware),
        Middleware(security_headers.SecurityHeadersMiddleware, headers=secure_headers),
        Middleware(limits.RequestLimitsMiddleware, max_body_bytes=settings.max_body_bytes),
    ]
    # The response pipeline, inside the hardening: scheduled items due by now are published
    # before anything reads the bulletin; conditional turns a matching 200 into a
    # 304 whatever produced it; the page cache answers kept pages before anything else runs;
    # representation stamps, compresses and tags what the routes return (error pages too).
    serving_middleware = [
        Middleware(ScheduledPublishingMiddleware, changes=changes, db=db, clock=now),
        Middleware(ConditionalMiddleware),
        Middleware(PageCacheMiddleware, store=page_store, changes=changes, today=day),
        Middleware(
            RepresentationMiddleware,
            max_age=settings.page_max_age,
            model=settings.carbon_model,
            outer_headers=secure_headers,
        ),
    ]

    app = Starlette(
        routes=routes,
        middleware=[*hardening_middleware, *serving_middleware],
        lifespan=lifespan,
        exception_handlers={
            HTTPException: errors.http_exception,
            500: security_headers.with_security_headers(errors.server_error, secure_headers),
        },
    )
    # Starlette's trailing-slash redirect trusts the Host header: slashes.routes replaces it.
    app.router.redirect_slashes = False
    registry = AssetRegistry(load_assets())
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
        "footer_links": [
            ("footprint", "Impronta"),
            ("moderation_log", "Registro della moderazione"),
        ],
    }
    site = Site(
        settings=settings,
        db=db,
        templates=make_templates(app.router, template_globals),
        assets=registry,
        today=day,
        clock=now,
        security_txt=wellknown.security_txt_body(
            settings.base_url, settings.security_contact, datetime.now(UTC)
        ),
        page_store=page_store,
        sitemap_pages=["home", "bulletin", "deadlines", "events", "footprint"]
        + board_web.SITEMAP_PAGES,
        sitemap_sources=[board_web.sitemap_urls],
        # Measured addresses: areas append their own source to site.footprint_targets.
        footprint_targets=list(footprint.DEFAULT_SOURCES),
        footprint=footprint.FootprintCache(),
        footprint_budget=footprint.load_site_budget(),
        # Other areas append async callables (app -> URL paths) for `greenweb export`.
        export_sources=[],
        board_rules_html=load_rules(),
    )
    numeri.register(site)
    board_open.register(site)
    subscription.register(site)
    site.install(app)
    return app
