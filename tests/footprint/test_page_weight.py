"""A first budget check (BUDGET.md) until the footprint tool measures pages for real."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import brotli
import pytest
from starlette.testclient import TestClient

HOME_LIMIT = 10_240
PAGE_LIMIT = 14_600
DOM_LIMIT = 300
PAGES = [
    "/",
    "/bollettino",
    "/bollettino/call-tecnologie-sviluppo-sostenibile",
    "/bollettino/borsa-sociale-di-torino",  # the longest item
    "/scadenze",
    "/eventi",
    "/cerca?q=bando",
]


class Census(HTMLParser):
    """Counts elements and collects every address a page would make the browser fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0
        self.stylesheets: list[str] = []
        self.icons: list[str] = []
        self.fetched: list[str] = []  # anything else that costs a request
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1
        a = {name: value or "" for name, value in attrs}
        rel = a.get("rel", "").split()
        if tag == "script":
            self.scripts += 1
        elif tag == "link" and "stylesheet" in rel:
            self.stylesheets.append(a["href"])
        elif tag == "link" and "icon" in rel:
            self.icons.append(a["href"])
        elif tag == "link" and {"preload", "prefetch", "modulepreload", "manifest"} & set(rel):
            self.fetched.append(a["href"])
        elif tag in {"img", "iframe", "embed", "audio", "video", "source", "track", "input"}:
            for name in ("src", "srcset", "poster"):
                if a.get(name) and not a[name].startswith("data:"):
                    self.fetched.append(a[name])
        elif tag == "object" and a.get("data"):
            self.fetched.append(a["data"])
        if "style" in a and "url(" in a["style"]:
            self.fetched.append(a["style"])


def census(html: str) -> Census:
    parser = Census()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_the_brotli_budget(client: TestClient, path: str) -> None:
    body = client.get(path).content
    compressed = len(brotli.compress(body, quality=11))
    limit = HOME_LIMIT if path == "/" else PAGE_LIMIT
    assert compressed <= limit, f"{path}: {compressed} bytes with brotli, limit {limit}"
    assert compressed <= HOME_LIMIT  # the HTML document alone, on every page


@pytest.mark.parametrize("path", PAGES)
def test_page_has_at_most_300_elements(client: TestClient, path: str) -> None:
    count = census(client.get(path).text).elements
    assert count <= DOM_LIMIT, f"{path}: {count} elements"


@pytest.mark.parametrize("path", PAGES)
def test_page_costs_one_more_request_at_most(client: TestClient, path: str) -> None:
    found = census(client.get(path).text)
    assert found.scripts == 0
    assert len(found.stylesheets) == 1
    assert found.stylesheets[0].startswith("/static/")
    assert found.icons and all(icon.startswith("data:") for icon in found.icons)
    assert found.fetched == []


def test_the_stylesheet_is_small_and_fetches_nothing(client: TestClient) -> None:
    href = census(client.get("/").text).stylesheets[0]
    css = client.get(href).content
    assert len(brotli.compress(css, quality=11)) <= 2_000
    assert not re.search(rb"url\(|@import|@font-face", css)


def test_the_generated_list_stays_within_budget(generated_client: TestClient) -> None:
    # 20 items a page, however many there are.
    for path in ["/bollettino", "/bollettino?page=2", "/cerca?q=riciclo"]:
        html = generated_client.get(path).text
        assert len(brotli.compress(html.encode(), quality=11)) <= PAGE_LIMIT, path
        assert census(html).elements <= DOM_LIMIT, path
