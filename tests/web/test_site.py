"""The Site: built once by create_app, the same object from the app and from a request."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.site import installed_site, site_of


def test_create_app_builds_one_site_that_views_reach_through_the_request(
    settings: Settings,
) -> None:
    app = create_app(settings)
    site = site_of(app)
    assert site.settings is settings
    seen: list[object] = []

    async def probe(request: Request) -> Response:
        seen.append(site_of(request))
        return PlainTextResponse("ok")

    app.router.routes.insert(0, Route("/prova", probe))
    with TestClient(app) as client:
        assert client.get("/prova").status_code == 200
    assert seen == [site]


def test_question_limits_follow_the_settings(settings: Settings) -> None:
    limits = site_of(create_app(settings)).question_limits
    assert (limits.text_min, limits.text_max, limits.name_max) == (
        settings.question_min_chars,
        settings.question_max_chars,
        settings.name_max_chars,
    )


def test_an_app_create_app_did_not_build_has_no_site() -> None:
    bare = Starlette()
    assert installed_site(bare) is None
    with pytest.raises(LookupError, match="create_app"):
        site_of(bare)
