"""The sample site the footprint tests measure: one page, its stylesheet, an image, a font.

``page_app`` builds it (with another page or stylesheet if asked); ``measured_page`` and
``measured_stylesheet`` are the page and the stylesheet as measured, for the tests of what
is done with a measurement (the budget check, the reports).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from greenweb.footprint.carbon import CarbonModel
from greenweb.footprint.measure import PageResult, Target, measure_page

SAMPLE_PAGE = """<!doctype html><html lang="it"><head><title>t</title>
<link rel="stylesheet" href="/s.css">
<link rel="icon" href="data:image/svg+xml,%3Csvg%3E%3C/svg%3E">
<link rel="alternate" type="application/atom+xml" href="/feed.xml">
<link rel="next" href="/?page=2">
</head><body><p>ciao</p><a href="https://other.example/">fuori</a>
<form action="/cerca"><button>Cerca</button></form></body></html>"""


def make_page_app(html: str = SAMPLE_PAGE, css: str = "body{color:red}") -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(html)

    async def stylesheet(request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=31536000, immutable"}
        return Response(css, media_type="text/css", headers=headers)

    async def image(request: Request) -> Response:
        return Response(b"\x89PNG" + b"0" * 96, media_type="image/png")

    async def font(request: Request) -> Response:
        return Response(b"wOF2" + b"0" * 196, media_type="font/woff2")

    return Starlette(
        routes=[
            Route("/", page),
            Route("/s.css", stylesheet),
            Route("/img.png", image),
            Route("/f.woff2", font),
        ]
    )


def _measure(target: Target) -> PageResult:
    return asyncio.run(measure_page(make_page_app(), target, model=CarbonModel(), repeats=2))


@pytest.fixture
def sample_html() -> str:
    return SAMPLE_PAGE


@pytest.fixture
def page_app() -> Callable[..., Starlette]:
    """``page_app(html=..., css=...)``: the sample site, with another page or stylesheet."""
    return make_page_app


@pytest.fixture
def measured_page() -> PageResult:
    return _measure(Target("page", "/", "Pagina"))


@pytest.fixture
def measured_stylesheet() -> PageResult:
    return _measure(Target("css", "/s.css", "Foglio di stile"))
