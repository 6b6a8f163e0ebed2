"""greenweb.footprint.page: what a document and its stylesheets make a browser fetch."""

from __future__ import annotations

import gzip

import brotli
import pytest

from greenweb.asgi_client import Captured
from greenweb.footprint.page import css_references, is_html, parse_html, text_of


def test_css_references_skip_fragments_and_read_font_faces() -> None:
    refs = css_references(
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
    parsed = parse_html("<html><body><br/><p>a<img src=x.png></p></body></html>", "http://h/")
    assert parsed.elements == 5


def test_javascript_written_in_the_page_is_counted_in_bytes() -> None:
    parsed = parse_html(
        '<body onload="go()"><a href="javascript:void(0)">x</a><script>hi()</script></body>',
        "http://h/",
    )
    assert parsed.inline_js_bytes == len("go()") + len("void(0)") + len("hi()")
    assert parsed.references == ()  # a javascript: URL is no request


def test_contacts_with_other_hosts_are_kept_apart_from_requests() -> None:
    parsed = parse_html(
        '<link rel="preconnect" href="https://fonts.example.com">'
        '<link rel="preload" as="font" href="/f.woff2"><link rel="next" href="/?page=2">',
        "http://h/",
    )
    assert parsed.connections == ("https://fonts.example.com",)
    assert [(r.kind, r.url) for r in parsed.references] == [("font", "http://h/f.woff2")]


@pytest.mark.parametrize(
    ("content_type", "html"),
    [
        ("text/html; charset=utf-8", True),
        ("application/xhtml+xml", True),
        ("TEXT/HTML", True),
        ("text/css", False),
        ("", False),
    ],
)
def test_html_is_told_by_its_content_type(content_type: str, html: bool) -> None:
    assert is_html(content_type) is html


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("br", brotli.compress), ("gzip", gzip.compress), ("identity", bytes)],
)
def test_a_body_is_read_with_its_content_coding_undone(coding: str, encode: object) -> None:
    text = "città è già qui"
    body = encode(text.encode("latin-1"))  # type: ignore[operator]
    headers = (
        (b"content-type", b"text/html; charset=latin-1"),
        (b"content-encoding", coding.encode()),
    )
    assert text_of(Captured(200, headers, body)) == text
