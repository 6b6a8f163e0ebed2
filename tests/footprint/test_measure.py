"""greenweb.footprint: measuring over raw ASGI, reading pages, the budget and its check."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
from pathlib import Path
from typing import Any

import brotli
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from greenweb import footprint as fp
from greenweb.cli.footprint import measure_app, output
from greenweb.footprint import carbon

REPO = Path(__file__).resolve().parents[2]
GLOBAL = fp.make_method("global", False)

# --- apps to measure -------------------------------------------------------------------------


def raw_app(
    body: bytes, headers: list[tuple[bytes, bytes]], *, chunks: int = 1, status: int = 200
) -> fp.ASGIApp:
    """An ASGI app answering every request with exactly these bytes."""

    async def app(scope: fp.Scope, receive: fp.Receive, send: fp.Send) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": status, "headers": headers})
        size = -(-len(body) // chunks) if body else 0
        parts = [body[i : i + size] for i in range(0, len(body), size)] if body else [b""]
        for index, part in enumerate(parts):
            more = index < len(parts) - 1
            await send({"type": "http.response.body", "body": part, "more_body": more})

    return app


def compressing_app(html: str) -> fp.ASGIApp:
    """Serves ``html`` with brotli or gzip as the request asks, like the serving branch."""
    raw = html.encode()

    async def app(scope: fp.Scope, receive: fp.Receive, send: fp.Send) -> None:
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


PAGE = """<!doctype html><html lang="it"><head><title>t</title>
<link rel="stylesheet" href="/s.css">
<link rel="icon" href="data:image/svg+xml,%3Csvg%3E%3C/svg%3E">
<link rel="alternate" type="application/atom+xml" href="/feed.xml">
<link rel="next" href="/?page=2">
</head><body><p>ciao</p><a href="https://other.example/">fuori</a>
<form action="/cerca"><button>Cerca</button></form></body></html>"""


def page_app(html: str = PAGE, css: str = "body{color:red}") -> Starlette:
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


def bloated_app() -> Starlette:
    """Everything the budget forbids, on one page."""
    cells = "".join(f"<span>{i}</span>" for i in range(400))
    filler = "x" * 50_000
    html = (
        '<!doctype html><html><head><link rel="stylesheet" '
        'href="https://cdn.example.net/framework.css"><script>console.log("hi")</script>'
        f'</head><body><img src="https://cdn.example.net/hero.jpg" alt="">{cells}'
        f"<p>{filler}</p></body></html>"
    )

    async def page(request: Request) -> Response:
        response = HTMLResponse(html)
        response.set_cookie("visitor", "1")
        return response

    return Starlette(routes=[Route("/gonfia", page)])


def measure(app: fp.ASGIApp, path: str = "/", **kwargs: Any) -> fp.PageResult:
    target = fp.Target("page", path, "Pagina", **kwargs)
    return asyncio.run(fp.measure_page(app, target, method=GLOBAL, repeats=2))


def budget(**page: int) -> fp.Budget:
    return fp.Budget(page=page, resource={}, routes={})


# --- bytes as sent ---------------------------------------------------------------------------


def test_header_bytes_are_the_http11_status_line_headers_server_date_and_blank_line() -> None:
    app = raw_app(b"ok", [(b"content-type", b"text/plain"), (b"content-length", b"2")])
    got = asyncio.run(fp.request(app, "/"))
    # "HTTP/1.1 200 OK\r\n" 17, "content-type: text/plain\r\n" 26, "content-length: 2\r\n" 19,
    # "date: <29 characters>\r\n" 37, "\r\n" 2.
    assert got.header_bytes == 17 + 26 + 19 + 37 + 2
    assert got.wire_bytes == got.header_bytes + 2
    assert got.body == b"ok"


def test_a_body_without_content_length_pays_chunked_framing() -> None:
    app = raw_app(b"a" * 20, [(b"content-type", b"text/plain")], chunks=2)
    got = asyncio.run(fp.request(app, "/"))
    assert got.chunked and got.chunks == 2
    # two chunks of 10 bytes: "a\r\n" + data + "\r\n" each, then "0\r\n\r\n"
    assert got.framing_bytes == 2 * (1 + 4) + 5
    assert "transfer-encoding" not in dict(got.headers)  # the server adds it, and we count it
    assert got.header_bytes == 17 + 26 + 37 + len("transfer-encoding: chunked\r\n") + 2


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


def test_an_uncompressed_response_is_reported_as_sent() -> None:
    result = measure(page_app())
    assert all(e.content_encoding is None for e in result.document)
    assert result.document_br_bytes == result.raw_bytes == len(PAGE.encode())


def test_a_page_that_fails_is_measured_as_the_error_it_sends() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/rotta", broken)])
    result = measure(app, "/rotta")
    assert result.status == 500
    report = fp.Report((result,), (), GLOBAL, result_time(), "http://testserver")
    assert [v.limit for v in fp.check(report, budget())] == ["status"]


def test_an_app_that_sends_nothing_is_an_error() -> None:
    async def silent(scope: fp.Scope, receive: fp.Receive, send: fp.Send) -> None:
        raise ValueError("nothing to say")

    with pytest.raises(RuntimeError, match="GET /: the app failed: ValueError"):
        asyncio.run(fp.request(silent, "/"))


# --- reading the page ------------------------------------------------------------------------


def test_first_view_counts_the_stylesheet_and_repeat_view_only_the_document() -> None:
    result = measure(page_app())
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


def test_grams_follow_the_bytes_with_the_swd_v4_model() -> None:
    result = measure(page_app())
    expected = carbon.per_visit(result.first_view.wire_bytes).total
    assert result.first_view.co2e_g == expected
    assert result.first_view.rating == carbon.rating(expected)
    italy = asyncio.run(
        fp.measure_page(
            page_app(), fp.Target("p", "/", "P"), method=fp.make_method("ITA", False), repeats=0
        )
    )
    assert italy.first_view.co2e_g < result.first_view.co2e_g
    green = asyncio.run(
        fp.measure_page(
            page_app(), fp.Target("p", "/", "P"), method=fp.make_method("global", True), repeats=0
        )
    )
    assert green.first_view.co2e_g < result.first_view.co2e_g


def test_images_fonts_and_scripts_are_fetched_and_classified() -> None:
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


def test_third_party_references_are_counted_not_fetched() -> None:
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


def test_stylesheets_bring_their_own_references() -> None:
    css = (
        "@import url(/extra.css);\n@font-face{src:url('/f.woff2')}\nbody{background:url(/img.png)}"
    )
    result = measure(page_app(css=css))
    urls = [r.url.rsplit("/", 1)[1] for r in result.subresources]
    assert urls == ["s.css", "extra.css", "f.woff2", "img.png"]
    assert result.font_bytes == 200


def test_css_references_skip_fragments_and_read_font_faces() -> None:
    refs = fp.css_references(
        "@import 'a.css'; @font-face{src:url(x.woff2) format('woff2')} "
        'p{background:url(#g)} q{background:url( "b.png" )}',
        "http://h/dir/s.css",
    )
    assert [(r.kind, r.url) for r in refs] == [
        ("stylesheet", "http://h/dir/a.css"),
        ("font", "http://h/dir/x.woff2"),
        ("css", "http://h/dir/b.png"),
    ]


def test_dom_elements_count_every_start_tag_once() -> None:
    parsed = fp.parse_html("<html><body><br/><p>a<img src=x.png></p></body></html>", "http://h/")
    assert parsed.elements == 5


def test_non_html_resources_have_no_dom_and_one_request() -> None:
    app = raw_app(
        b"<feed/>", [(b"content-type", b"application/atom+xml"), (b"content-length", b"7")]
    )
    result = measure(app)
    assert not result.is_html and result.dom_elements is None
    assert result.first_view.requests == 1 and result.subresources == ()


def test_cpu_time_has_a_cold_sample_and_a_warm_median() -> None:
    result = measure(page_app())
    assert result.cpu_uncached_ns > 0
    assert result.cpu_cached_ns is not None and result.cpu_samples == 2


# --- the budget ------------------------------------------------------------------------------


def test_the_repository_budget_holds_the_numbers_of_budget_md() -> None:
    repo = fp.load_budget(REPO / "footprint-budget.toml")
    assert repo.page == {
        "transfer_bytes": 14_600,
        "document_br_bytes": 10_240,
        "requests": 2,
        "repeat_requests": 1,
        "js_bytes": 0,
        "font_bytes": 0,
        "third_party": 0,
        "cookies": 0,
        "dom_elements": 300,
    }
    assert repo.routes["home"] == {"transfer_bytes": 10_240}
    assert repo.resource["cookies"] == 0 and repo.resource["third_party"] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = 1\n[page]\ntransfer_byte = 1\n", "page.transfer_byte: unknown key"),
        ("schema = 1\n[pages]\n", "pages: unknown key"),
        ("schema = 1\n[routes.home]\ncolour = 1\n", "routes.home.colour: unknown key"),
        ("schema = 1\n[page]\nrequests = -1\n", "page.requests: expected a whole number"),
        ("schema = 1\n[page]\nrequests = true\n", "page.requests: expected a whole number"),
        ("schema = 1\n[page]\nrequests = 1.5\n", "page.requests: expected a whole number"),
        ("schema = 1\npage = 3\n", "page: expected a table"),
        ("[page]\n", "schema: expected 1"),
        ("schema = [", "not valid TOML"),
    ],
)
def test_a_bad_budget_is_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(fp.BudgetError, match=message.replace(".", r"\.")):
        fp.parse_budget(text, "b.toml")


def test_a_missing_budget_file_is_a_budget_error(tmp_path: Path) -> None:
    with pytest.raises(fp.BudgetError, match="cannot read"):
        fp.load_budget(tmp_path / "none.toml")


def test_route_limits_override_the_page_limits() -> None:
    result = measure(page_app())
    strict = fp.Budget(
        page={"transfer_bytes": 100_000}, resource={}, routes={"page": {"transfer_bytes": 10}}
    )
    report = fp.Report((result,), (), GLOBAL, result_time(), "http://testserver")
    [violation] = fp.check(report, strict)
    assert (violation.page, violation.limit, violation.maximum) == ("page", "transfer_bytes", 10)


def result_time() -> Any:
    from datetime import UTC, datetime

    return datetime(2021, 9, 4, tzinfo=UTC)


def test_an_unexpected_status_is_a_violation() -> None:
    result = measure(page_app(), "/nothing-here")
    report = fp.Report((result,), (), GLOBAL, result_time(), "http://testserver")
    [violation] = fp.check(report, budget())
    assert (violation.limit, violation.measured, violation.maximum) == ("status", 404, 200)


def test_a_bloated_page_fails_the_check_naming_the_page_and_every_limit() -> None:
    repo = fp.load_budget(REPO / "footprint-budget.toml")
    target = fp.Target("gonfia", "/gonfia", "Pagina gonfia")
    report = asyncio.run(
        measure_app(bloated_app(), method=GLOBAL, targets=[target], base_url="http://testserver")
    )
    found = {v.limit: v for v in fp.check(report, repo)}
    assert set(found) == {
        "transfer_bytes",
        "document_br_bytes",
        "requests",
        "repeat_requests",
        "js_bytes",
        "third_party",
        "cookies",
        "dom_elements",
    }
    assert found["cookies"].measured == 1
    # html, head, link, script, body, img, 400 span, p
    assert found["dom_elements"].measured == 407
    assert found["requests"].measured == 3  # the document and two requests to another host
    assert found["third_party"].measured == 2
    assert found["js_bytes"].measured == len('console.log("hi")')
    assert found["document_br_bytes"].measured > 50_000

    out = io.StringIO()
    status = output(report, repo, fmt="table", check=True, out=out)
    assert status == 1
    text = out.getvalue()
    for limit in found:
        assert f"gonfia (/gonfia): {limit} " in text
    assert "budget: 8 limits exceeded on 1 pages" in text


def test_a_page_within_budget_passes_the_check() -> None:
    target = fp.Target("page", "/", "Pagina")
    report = asyncio.run(
        measure_app(page_app(), method=GLOBAL, targets=[target], base_url="http://testserver")
    )
    out = io.StringIO()
    assert (
        output(
            report, fp.load_budget(REPO / "footprint-budget.toml"), fmt="table", check=True, out=out
        )
        == 0
    )
    assert "budget: all 1 pages within budget" in out.getvalue()


# --- presenting ------------------------------------------------------------------------------


def test_json_report_has_a_versioned_stable_shape() -> None:
    result = measure(page_app())
    report = fp.Report((result,), (fp.Skipped("deep", "one page"),), GLOBAL, result_time(), "x")
    document = json.loads(fp.dumps(fp.to_json(report, budget(requests=1))))
    assert document["schema"] == "greenweb-footprint"
    assert document["schema_version"] == fp.JSON_SCHEMA_VERSION == 1
    assert document["model"]["grid_intensity_g_per_kwh"]["network"] == 494.0
    page = document["pages"][0]
    assert set(page) == {
        "id", "path", "label", "expected_status", "status", "content_type", "html",
        "raw_bytes", "document", "subresources", "first_view", "repeat_view", "js_bytes",
        "font_bytes", "third_party", "cookies", "dom_elements", "cpu_us",
    }  # fmt: skip
    assert set(page["document"]) == {"br", "gzip", "identity"}
    assert page["first_view"]["transfer_bytes"] == result.first_view.wire_bytes
    assert document["skipped"] == [{"id": "deep", "reason": "one page"}]
    assert document["check"]["passed"] is False
    assert document["check"]["violations"] == [
        {"page": "page", "path": "/", "limit": "requests", "measured": 2, "maximum": 1}
    ]


def test_table_and_markdown_name_every_page() -> None:
    one = measure(page_app())
    other = measure(page_app(), "/s.css")
    report = fp.Report((one, fp_replace_id(other, "css")), (), GLOBAL, result_time(), "x")
    table = fp.render_table(report)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["page", "status", "enc"]
    assert lines[2].startswith("page ") and lines[3].startswith("css ")
    assert len(lines[0]) == len(lines[1])  # the rule is as wide as the header
    markdown = fp.render_markdown(report, [])
    assert "**Budget: all pages pass.**" in markdown
    assert "| page | `/` | 200 |" in markdown and "| css | `/s.css` | 200 |" in markdown


def fp_replace_id(result: fp.PageResult, new_id: str) -> fp.PageResult:
    from dataclasses import replace

    return replace(result, target=replace(result.target, id=new_id))


@pytest.mark.parametrize(
    ("text", "label", "intensity"),
    [
        ("global", "global", 494.0),
        ("", "global", 494.0),
        ("ita", "ITA", carbon.COUNTRY_GRID_INTENSITY["ITA"]),
        ("300", "300", 300.0),
    ],
)
def test_grid_intensity_setting(text: str, label: str, intensity: float) -> None:
    got_label, grid = fp.parse_grid(text)
    assert got_label == label and grid.network == grid.device == grid.data_center == intensity


@pytest.mark.parametrize("text", ["mars", "-5", "nan", "inf"])
def test_a_bad_grid_intensity_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        fp.parse_grid(text)


def test_carbon_txt_is_valid_toml_with_disclosure_and_upstream() -> None:
    import tomllib

    data = tomllib.loads(
        fp.carbon_txt(
            disclosure_url="https://greenweb.example/impronta", hosting_provider="hetzner.com"
        )
    )
    assert data["version"] == "0.4"
    [disclosure] = data["org"]["disclosures"]
    assert disclosure["doc_type"] == "web-page"
    assert disclosure["url"] == "https://greenweb.example/impronta"
    assert disclosure["domain"] == "greenweb.example"
    assert data["upstream"]["services"] == [{"domain": "hetzner.com"}]
    quoted = tomllib.loads(fp.carbon_txt(disclosure_url="https://x/", hosting_provider='a"b\\c'))
    assert quoted["upstream"]["services"] == [{"domain": 'a"b\\c'}]
