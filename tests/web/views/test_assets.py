"""/static/{name}: the negotiated coding, immutable, ETag and 304, HEAD, unknown names."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from greenweb.web.static_files import load_assets
from greenweb.web.views.assets import IMMUTABLE


def stylesheet_url(client: TestClient) -> str:
    found = re.search(r'<link rel="stylesheet" href="([^"]+)"', client.get("/").text)
    assert found is not None
    return found.group(1)


def test_stylesheet_address_carries_a_content_hash(client: TestClient) -> None:
    assert re.fullmatch(r"/static/style\.[0-9a-f]{10}\.css", stylesheet_url(client))


@pytest.mark.parametrize("coding", ["br", "gzip", "identity"])
def test_stylesheet_is_served_in_the_negotiated_coding(client: TestClient, coding: str) -> None:
    with client.stream("GET", stylesheet_url(client), headers={"Accept-Encoding": coding}) as r:
        raw = b"".join(r.iter_raw())
    style = load_assets()["style.css"]
    assert raw == style.variants[coding][0]
    assert r.headers["cache-control"] == IMMUTABLE
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["etag"] == style.variants[coding][1]
    assert r.headers.get("content-encoding") == (None if coding == "identity" else coding)
    assert r.headers["content-type"] == "text/css; charset=utf-8"


def test_stylesheet_etags_differ_per_coding_and_304_matches(client: TestClient) -> None:
    url = stylesheet_url(client)
    tags = {
        c: client.get(url, headers={"Accept-Encoding": c}).headers["etag"]
        for c in ("br", "gzip", "identity")
    }
    assert len(set(tags.values())) == 3
    not_modified = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": tags["br"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == tags["br"]
    assert not_modified.headers["cache-control"] == IMMUTABLE
    assert "content-encoding" not in not_modified.headers
    other = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": tags["br"]})
    assert other.status_code == 200


def test_head_of_an_asset_has_headers_and_no_body(client: TestClient) -> None:
    url = stylesheet_url(client)
    get = client.get(url, headers={"Accept-Encoding": "br"})
    head = client.head(url, headers={"Accept-Encoding": "br"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_unknown_or_stale_asset_names_are_404(client: TestClient) -> None:
    assert client.get("/static/style.0000000000.css").status_code == 404
    assert client.get("/static/style.css").status_code == 404
