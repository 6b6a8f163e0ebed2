"""greenweb.footprint.measure: a target measured over raw ASGI, bytes as the app sends them."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import brotli
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.asgi_client import ASGIApp, Receive, Scope, Send
from greenweb.footprint import carbon, wire
from greenweb.footprint.budget import Budget, check
from greenweb.footprint.carbon import CarbonModel
from greenweb.footprint.measure import PageResult, Report, Target, measure_page

PageApp = Callable[..., Starlette]
GLOBAL = CarbonModel()


def compressing_app(html: str) -> ASGIApp:
    """Serves ``html`` with brotli or gzip as the request asks, like the serving branch."""
    raw = html.encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        accept = dict(scope["headers"]).get(b"accept-encoding", b"").decode()
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        body = raw
        if "br" in accept:
            body = brotli.compress(raw)
            headers.append((b"content-encoding", b"br"))
        elif "gzip" in accept:
            body = gzip.compress(raw, mtime=0)
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def measure(app: ASGIApp, path: str = "/", **kwargs: Any) -> PageResult:
    target = Target("page", path, "Pagina", **kwargs)
    return asyncio.run(measure_page(app, target, model=GLOBAL, repeats=2))


# --- bytes as sent ---------------------------------------------------------------------------


def test_the_compressed_body_is_counted_not_the_decoded_one() -> None:
    html = "<!doctype html><html><body>" + "<p>ripetuto</p>" * 400 + "</body></html>"
    result = measure(compressing_app(html))
    br, gz, identity = (result.encoded(e) for e in ("br", "gzip", "identity"))
    assert br.content_encoding == "br"
    assert br.body_bytes == len(brotli.compress(html.encode()))
    assert gz.content_encoding == "gzip"
    assert gz.body_bytes == len(gzip.compress(html.encode(), mtime=0))
    assert identity.content_encoding is None and identity.body_bytes == len(html)
    assert result.raw_bytes == len(html)
    assert result.document_br_bytes < 200 < len(html)
    assert result.dom_elements == 2 + 400  # html, body, 400 p (no head tag: none counted)


def test_an_uncompressed_response_is_reported_as_sent(
    measured_page: PageResult, sample_html: str
) -> None:
    assert all(e.content_encoding is None for e in measured_page.document)
    assert measured_page.document_br_bytes == measured_page.raw_bytes == len(sample_html.encode())


def test_a_page_that_fails_is_measured_as_the_error_it_sends() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/rotta", broken)])
    result = measure(app, "/rotta")
    assert result.status == 500
    report = Report((result,), (), GLOBAL, datetime(2021, 9, 4, tzinfo=UTC), "http://testserver")
    no_limits = Budget(page={}, resource={}, routes={})
    assert [v.limit for v in check(report, no_limits)] == ["status"]


# --- reading the page ------------------------------------------------------------------------


def test_first_view_counts_the_stylesheet_and_repeat_view_only_the_document(
    measured_page: PageResult,
) -> None:
    result = measured_page
    assert [(r.kind, r.url) for r in result.subresources] == [
        ("stylesheet", "http://testserver/s.css")
    ]
    css = result.subresources[0]
    assert css.cached_on_repeat and css.body_bytes == len("body{color:red}")
    assert result.first_view.requests == 2
    assert result.repeat_view.requests == 1
    document = result.encoded("br").wire_bytes
    assert result.first_view.wire_bytes == document + css.wire_bytes
    assert result.repeat_view.wire_bytes == document
    # Links, forms, feeds and data: URLs are no requests and no third parties.
    assert result.third_party == () and result.js_bytes == 0 and result.cookies == 0


def test_grams_follow_the_bytes_with_the_swd_v4_model(
    measured_page: PageResult, page_app: PageApp
) -> None:
    result = measured_page
    expected = carbon.per_visit(result.first_view.wire_bytes).total
    assert result.first_view.co2e_g == expected
    assert result.first_view.rating == carbon.rating(expected)
    target = Target("p", "/", "P")
    italy = CarbonModel.from_setting("ITA", False)
    on_italy = asyncio.run(measure_page(page_app(), target, model=italy, repeats=0))
    assert on_italy.first_view.co2e_g < result.first_view.co2e_g
    green = CarbonModel.from_setting("global", True)
    on_green = asyncio.run(measure_page(page_app(), target, model=green, repeats=0))
    assert on_green.first_view.co2e_g < result.first_view.co2e_g


def test_images_fonts_and_scripts_are_fetched_and_classified(page_app: PageApp) -> None:
    html = (
        "<html><head><style>@font-face{font-family:x;src:url(/f.woff2)}</style>"
        '<script src="/app.js"></script></head>'
        '<body onload="go()"><img src="/img.png" alt=""><a href="javascript:void(0)">x</a>'
        '<div style="background:url(data:image/png;base64,AA==)"></div></body></html>'
    )
    result = measure(page_app(html))
    kinds = {r.url.rsplit("/", 1)[1]: r.kind for r in result.subresources}
    assert kinds == {"f.woff2": "font", "app.js": "script", "img.png": "image"}
    assert result.font_bytes == 200
    # go() (4) and void(0) (7); /app.js is a 404 text page here, counted as script bytes
    script = next(r for r in result.subresources if r.kind == "script")
    assert result.js_bytes == 4 + 7 + script.body_bytes
    image = next(r for r in result.subresources if r.kind == "image")
    assert not image.cached_on_repeat  # no immutable cache: fetched again on a repeat view
    assert result.repeat_view.requests == 1 + 3
    assert result.first_view.requests == 4  # the data: URL costs no request


def test_third_party_references_are_counted_not_fetched(page_app: PageApp) -> None:
    html = (
        '<html><head><link rel="preconnect" href="https://fonts.example.com">'
        '<link rel="stylesheet" href="//cdn.example.net/a.css"></head>'
        '<body><img src="https://img.example.org/x.png"></body></html>'
    )
    result = measure(page_app(html))
    assert set(result.third_party) == {
        "https://fonts.example.com",
        "http://cdn.example.net/a.css",
        "https://img.example.org/x.png",
    }
    assert all(not r.fetched for r in result.subresources)
    assert result.first_view.requests == 3  # the preconnect is a contact, not a request


def test_stylesheets_bring_their_own_references(page_app: PageApp) -> None:
    css = (
        "@import url(/extra.css);\n@font-face{src:url('/f.woff2')}\nbody{background:url(/img.png)}"
    )
    result = measure(page_app(css=css))
    urls = [r.url.rsplit("/", 1)[1] for r in result.subresources]
    assert urls == ["s.css", "extra.css", "f.woff2", "img.png"]
    assert result.font_bytes == 200


def test_non_html_resources_have_no_dom_and_one_request(measured_stylesheet: PageResult) -> None:
    result = measured_stylesheet
    assert not result.is_html and result.dom_elements is None
    assert result.first_view.requests == 1 and result.subresources == ()


def test_a_subresource_is_counted_with_its_head(measured_page: PageResult) -> None:
    css = measured_page.subresources[0]
    assert css.wire_bytes == css.header_bytes + css.body_bytes  # it has a Content-Length
    assert css.header_bytes == wire.head_size(
        [
            (b"content-length", b"15"),
            (b"content-type", b"text/css; charset=utf-8"),
            (b"cache-control", b"public, max-age=31536000, immutable"),
        ]
    )


def test_cpu_time_has_a_cold_sample_and_a_warm_median(measured_page: PageResult) -> None:
    assert measured_page.cpu_uncached_ns > 0
    assert measured_page.cpu_cached_ns is not None and measured_page.cpu_samples == 2
