"""BUDGET.md, measured from Chromium's own network log for every page.

Bytes over the wire are ``Network.loadingFinished.encodedDataLength`` from the DevTools
protocol: status line, headers and body as received, compressed when the server compressed
it. Chromium itself sends ``Accept-Encoding: gzip, deflate, br, zstd`` (checked below), so
the figures are those of the budget's "first view, empty cache, br" conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

HOME_LIMIT = 10_240
PAGE_LIMIT = 14_600
DOCUMENT_LIMIT = 10_240
MAX_REQUESTS = 2
MAX_DOM_ELEMENTS = 300
LOCAL_HOST = "127.0.0.1"

# The staff's session cookies and their paths (greenweb.web.session.AREAS).
STAFF_COOKIES = {"greenweb_moderazione": "/moderazione", "greenweb_redazione": "/redazione"}


@dataclass(frozen=True)
class FirstView:
    transfers: list[Any]  # conftest.Transfer, every request seen (cached or not)
    network: list[Any]  # those that went over the network
    cookies: list[Any]
    dom_elements: int
    status: int

    @property
    def wire_bytes(self) -> int:
        return sum(t.wire_bytes or 0 for t in self.network)

    @property
    def document(self) -> Any:
        return next(t for t in self.network if t.resource_type == "Document")

    def describe(self) -> str:
        return "\n".join(
            f"  {t.resource_type:<10} {t.status} {t.wire_bytes:>6} B "
            f"{t.content_encoding or 'identity':<8} {t.url}"
            for t in self.network
        )


@pytest.fixture(scope="module")
def first_views() -> dict[str, FirstView]:
    """Measurements shared by the tests of one page (one Chromium visit each)."""
    return {}


def forget(log: Any) -> None:
    log.settle()
    log.clear()


@pytest.fixture
def first_view(
    site_page: Any,
    first_views: dict[str, FirstView],
    page_context: Any,
    visit_page: Any,
    network_log: Any,
) -> FirstView:
    if site_page.name not in first_views:
        context = page_context(site_page)
        page = context.new_page()
        log = network_log(context, page)
        if site_page.form is not None:
            # The answer to a form is measured as a first view too: the stylesheet the
            # form page brought must come again, not from the cache.
            log.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        response = visit_page(page, site_page, before_submit=lambda: forget(log))
        transfers = log.settle()
        first_views[site_page.name] = FirstView(
            transfers=transfers,
            network=[t for t in transfers if t.from_network],
            cookies=context.cookies(),
            dom_elements=page.locator("*").count(),
            status=response.status,
        )
    return first_views[site_page.name]


def test_first_view_is_the_document_and_one_stylesheet(
    site_page: Any, first_view: FirstView
) -> None:
    assert first_view.status == site_page.status
    types = [t.resource_type for t in first_view.network]
    assert len(first_view.network) <= MAX_REQUESTS, first_view.describe()
    assert types == ["Document", "Stylesheet"], first_view.describe()
    paths = [urlsplit(t.url).path for t in first_view.transfers]
    assert "/favicon.ico" not in paths


def test_first_view_sends_no_javascript_no_cookies_no_third_party_requests(
    site_page: Any, first_view: FirstView
) -> None:
    scripts = [
        t
        for t in first_view.transfers
        if t.resource_type == "Script" or "javascript" in t.mime_type or "ecmascript" in t.mime_type
    ]
    assert scripts == []
    fonts = [t for t in first_view.transfers if t.resource_type == "Font"]
    assert fonts == []
    if site_page.moderator:
        # Exactly the session cookies the login set (one per staff area, each limited to
        # its path), and the page set no other.
        found = sorted((c["name"], c["path"]) for c in first_view.cookies)
        assert found == sorted(STAFF_COOKIES.items())
        for cookie in first_view.cookies:
            assert cookie["httpOnly"] is True
            assert cookie["sameSite"] == "Strict"
    else:
        assert first_view.cookies == []
    hosts = {urlsplit(t.url).hostname for t in first_view.transfers if t.from_network}
    assert hosts == {LOCAL_HOST}


def test_first_view_has_at_most_300_dom_elements(site_page: Any, first_view: FirstView) -> None:
    assert first_view.dom_elements <= MAX_DOM_ELEMENTS


def test_chromium_asks_for_brotli(site_page: Any, first_view: FirstView) -> None:
    accept = first_view.document.accept_encoding or ""
    assert "br" in [token.strip() for token in accept.split(",")], accept


def test_first_view_bytes_over_the_wire_within_budget(
    site_page: Any, first_view: FirstView
) -> None:
    limit = HOME_LIMIT if site_page.is_home else PAGE_LIMIT
    listing = first_view.describe()
    print(f"{site_page.name}: {first_view.wire_bytes} B over the wire\n{listing}")
    document_bytes, total_bytes = first_view.document.wire_bytes, first_view.wire_bytes
    assert document_bytes <= DOCUMENT_LIMIT, f"HTML over {DOCUMENT_LIMIT} B:\n{listing}"
    assert total_bytes <= limit, f"first view over {limit} B:\n{listing}"


def test_repeat_view_fetches_only_the_document(
    site_page: Any, page_context: Any, visit_page: Any, network_log: Any
) -> None:
    context = page_context(site_page)
    page = context.new_page()
    log = network_log(context, page)
    # Another page first, so the stylesheet is cached and this page's document is not.
    page.goto("/eventi" if site_page.path != "/eventi" else "/scadenze")
    forget(log)
    visit_page(page, site_page, before_submit=lambda: forget(log))
    network = log.network()
    assert [t.resource_type for t in network] == ["Document"], [t.url for t in network]
    stylesheets = [t for t in log.transfers.values() if t.resource_type == "Stylesheet"]
    assert all(t.from_cache for t in stylesheets)
