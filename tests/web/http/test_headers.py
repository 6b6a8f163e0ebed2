"""The raw ASGI header helpers every middleware uses."""

from __future__ import annotations

from greenweb.web.http.headers import (
    add_missing,
    add_vary,
    anonymous,
    cache_directives,
    chose_own_coding,
    header_value,
)


def test_add_missing_keeps_present_headers_in_any_case() -> None:
    defaults = ((b"x-a", b"1"), (b"x-b", b"2"))
    names = frozenset({b"x-a", b"x-b"})
    merged = add_missing([(b"X-A", b"mine")], defaults, names)
    assert merged == [(b"X-A", b"mine"), (b"x-b", b"2")]
    assert add_missing([], defaults, names) == list(defaults)


def test_header_value_is_the_first_of_that_name() -> None:
    headers = [(b"a", b"1"), (b"b", b"2"), (b"b", b"3")]
    assert header_value(headers, b"b") == b"2"
    assert header_value(headers, b"c") is None


def test_vary_is_merged_into_the_header_already_there() -> None:
    assert add_vary([], b"Accept-Encoding") == [(b"vary", b"Accept-Encoding")]
    assert add_vary([(b"vary", b"Cookie")], b"Accept-Encoding") == [
        (b"vary", b"Cookie, Accept-Encoding")
    ]
    assert add_vary([(b"vary", b"*")], b"Accept-Encoding") == [(b"vary", b"*")]


def test_cache_directives_are_names_in_lower_case() -> None:
    assert cache_directives(b"Public, max-age=60, No-Store") == {"public", "max-age", "no-store"}
    assert cache_directives(None) == set()
    assert cache_directives(b"") == set()


def test_a_request_with_a_cookie_or_credentials_is_not_anonymous() -> None:
    assert anonymous([(b"accept", b"*/*")])
    assert not anonymous([(b"cookie", b"a=1")])
    assert not anonymous([(b"authorization", b"Basic x")])


def test_a_response_that_names_its_coding_or_varies_on_it_chose_its_own() -> None:
    assert chose_own_coding([(b"content-encoding", b"br")])
    assert chose_own_coding([(b"vary", b"Cookie, Accept-Encoding")])
    assert not chose_own_coding([(b"vary", b"Cookie"), (b"content-type", b"text/css")])
