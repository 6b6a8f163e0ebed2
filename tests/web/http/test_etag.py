"""Strong ETags per content coding, and the weak comparison of If-None-Match."""

from __future__ import annotations

import pytest

from greenweb.web.http.etag import etag_length, make_etag, none_match, not_modified_headers


def test_etags_are_strong_and_name_the_coding() -> None:
    assert make_etag(b"abc", "br").endswith('-br"')
    assert make_etag(b"abc", "gzip").endswith('-gz"')
    assert not make_etag(b"abc").startswith("W/")
    assert make_etag(b"abc") != make_etag(b"abd")
    for coding in ("br", "gzip", "identity"):
        assert len(make_etag(b"x", coding)) == etag_length(coding)


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"a1"', True),
        ('W/"a1"', True),
        ('"zz", "a1"', True),
        ('"zz",W/"a1" ', True),
        ("*", True),
        ('"zz"', False),
        ('"a1-br"', False),
        ("a1", False),
        ("", False),
    ],
)
def test_if_none_match_uses_weak_comparison(header: str, matches: bool) -> None:
    assert none_match(header, '"a1"') is matches


def test_a_304_keeps_only_the_headers_that_describe_no_body() -> None:
    headers = [
        (b"content-type", b"text/html"),
        (b"etag", b'"a1"'),
        (b"content-length", b"10"),
        (b"vary", b"Accept-Encoding"),
        (b"cache-control", b"public"),
    ]
    assert not_modified_headers(headers) == [
        (b"etag", b'"a1"'),
        (b"vary", b"Accept-Encoding"),
        (b"cache-control", b"public"),
    ]
