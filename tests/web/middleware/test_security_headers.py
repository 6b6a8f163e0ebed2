"""Every response carries the security headers: pages, errors, 304s, refusals, 500s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.middleware.security_headers import CONTENT_SECURITY_POLICY, security_headers
from greenweb.web.site import site_of
from support import make_settings

EXPECTED = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def assert_security_headers(response: httpx2.Response) -> None:
    headers = response.headers
    for name, value in EXPECTED.items():
        assert headers.get_list(name) == [value], name
    policy = headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "browsing-topics=()"):
        assert feature in policy
    assert "server" not in headers


async def boom_GET(request: Request) -> Response:
    raise RuntimeError("a bug in a view")


async def own_policy_GET(request: Request) -> Response:
    return PlainTextResponse("x", headers={"Content-Security-Policy": "default-src 'self'"})


@pytest.fixture
def app_client(seeded_settings: Settings) -> Iterator[TestClient]:
    app = create_app(seeded_settings)
    app.router.routes.append(Route("/boom", boom_GET))
    app.router.routes.append(Route("/own-policy", own_policy_GET))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/bollettino",
        "/bollettino/horizon-europe",
        "/cerca?q=clima",
        "/feed.xml",
        "/calendario.ics",
        "/sitemap.xml",
        "/robots.txt",
        "/healthz",
    ],
)
def test_pages_carry_security_headers(app_client: TestClient, path: str) -> None:
    response = app_client.get(path)
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/non-esiste", 404),
        ("/bollettino?page=abc", 400),
        ("/bollettino/non-esiste", 404),
        ("/static/nessuno.css", 404),
        ("/cerca?q=%ff", 400),
        ("/cerca?q=" + "a" * 5000, 414),
    ],
)
def test_error_pages_carry_security_headers(app_client: TestClient, path: str, status: int) -> None:
    response = app_client.get(path)
    assert response.status_code == status
    assert_security_headers(response)


def test_wrong_method_carries_security_headers(app_client: TestClient) -> None:
    response = app_client.post("/bollettino")
    assert response.status_code == 405
    assert_security_headers(response)


def test_server_error_page_carries_security_headers(app_client: TestClient) -> None:
    response = app_client.get("/boom")
    assert response.status_code == 500
    assert "Errore del server" in response.text
    assert "a bug in a view" not in response.text
    assert_security_headers(response)


def test_not_modified_stylesheet_carries_security_headers(app_client: TestClient) -> None:
    registry = site_of(app_client.app).assets
    url = registry.url("style.css")
    first = app_client.get(url)
    again = app_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert_security_headers(again)


def test_body_too_large_refusal_carries_security_headers(app_client: TestClient) -> None:
    response = app_client.post("/cerca", content=b"x" * 40_000)
    assert response.status_code == 413
    assert_security_headers(response)


def test_a_response_keeps_its_own_policy(app_client: TestClient) -> None:
    response = app_client.get("/own-policy")
    assert response.headers.get_list("content-security-policy") == ["default-src 'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hsts_only_when_the_site_is_https(tmp_path: Path) -> None:
    plain = dict(security_headers(make_settings(tmp_path, base_url="http://example.org")))
    secure = dict(security_headers(make_settings(tmp_path, base_url="https://example.org")))
    assert b"strict-transport-security" not in plain
    assert secure[b"strict-transport-security"] == b"max-age=31536000"


def https_site_client(tmp_path: Path, over: str) -> TestClient:
    """A client of an https site whose requests travel over ``over`` (the scope's scheme)."""
    app = create_app(make_settings(tmp_path, base_url="https://greenweb.example"))
    app.router.routes.append(Route("/boom", boom_GET))
    return TestClient(app, base_url=f"{over}://greenweb.example", raise_server_exceptions=False)


def test_hsts_header_on_https_site_over_https(tmp_path: Path) -> None:
    with https_site_client(tmp_path, "https") as client:
        for path, status in (("/healthz", 200), ("/non-esiste", 404), ("/boom", 500)):
            response = client.get(path)
            assert response.status_code == status
            assert response.headers.get_list("strict-transport-security") == ["max-age=31536000"]
            assert_security_headers(response)


def test_no_hsts_over_plain_http_even_on_an_https_site(tmp_path: Path) -> None:
    """RFC 6797 §7.2: an HSTS host must not send the header over non-secure transport."""
    with https_site_client(tmp_path, "http") as client:
        for path, status in (("/healthz", 200), ("/non-esiste", 404), ("/boom", 500)):
            response = client.get(path)
            assert response.status_code == status
            assert "strict-transport-security" not in response.headers
            assert_security_headers(response)


def test_no_hsts_from_a_plain_http_site_over_https(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, base_url="http://greenweb.example"))
    with TestClient(app, base_url="https://greenweb.example") as client:
        response = client.get("/healthz")
    assert "strict-transport-security" not in response.headers
    assert_security_headers(response)


def test_a_forwarded_proto_header_alone_changes_nothing(tmp_path: Path) -> None:
    """Without a server that trusts it (``--proxy-headers``), the header is the client's word."""
    with https_site_client(tmp_path, "http") as client:
        response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in response.headers


def test_policy_allows_no_script_at_all() -> None:
    directives = dict(
        part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";") if part.strip()
    )
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives
    assert directives["frame-ancestors"] == "'none'"
