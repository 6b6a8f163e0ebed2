"""A trailing slash is redirected to the slashless page with a relative Location, whatever
the Host header says; nothing else is ever redirected by it."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb.web.app import create_app
from greenweb.web.site import site_of
from support import make_settings
from support.hostile import assert_local_redirect, assert_unchanged, table_counts

EVIL_HOSTS = ["evil.example", "evil.example:443", "127.0.0.1@evil.example", "[::1]"]


@pytest.mark.parametrize("host", EVIL_HOSTS)
def test_forged_host_does_not_reach_the_trailing_slash_redirect(
    client: TestClient, host: str
) -> None:
    response = client.get("/bollettino/", headers={"host": host}, follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/bollettino"
    assert "evil" not in response.text


def test_the_query_string_is_kept_and_the_path_re_escaped(client: TestClient) -> None:
    response = client.get(
        "http://testserver/bollettino/caff%C3%A8%25/?tipo=bando&q=%C3%A8",
        follow_redirects=False,
    )
    assert response.status_code == 308
    assert response.headers["location"] == "/bollettino/caff%C3%A8%25?tipo=bando&q=%C3%A8"


def test_every_get_page_with_a_slash_redirects_to_itself_without_it(client: TestClient) -> None:
    app = client.app
    paths = [
        route.path
        for route in app.router.routes  # type: ignore[attr-defined]
        if isinstance(route, Route)
        and "{" not in route.path
        and route.path != "/"
        and route.methods
        and "GET" in route.methods
    ]
    assert len(paths) >= 15
    for path in paths:
        response = client.get(path + "/", headers={"host": "evil.example"}, follow_redirects=False)
        assert response.status_code == 308, path
        assert assert_local_redirect(response) == path


@pytest.mark.parametrize(
    "url",
    [
        "http://testserver//evil.example/",
        "http://testserver//evil.example//",
        "http://testserver/%2F%2Fevil.example/",
        "http://testserver/%2F/evil.example/",
        "http://testserver/\\evil.example/",
        "http://testserver/%5Cevil.example/",
        "http://testserver/pagina-che-non-esiste/",
        "http://testserver/static/",
    ],
)
def test_paths_that_match_no_page_are_404_not_redirects(client: TestClient, url: str) -> None:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_with_a_slash_are_404_and_change_nothing(
    client: TestClient, method: str
) -> None:
    db_path = site_of(client.app).settings.db_path
    before = table_counts(db_path)
    response = client.request(
        method,
        "/domande/nuova/",
        content=b"testo=una+domanda+abbastanza+lunga",
        headers={"content-type": "application/x-www-form-urlencoded", "host": "evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert "location" not in response.headers
    assert_unchanged(db_path, before)


def test_head_is_redirected_like_get(client: TestClient) -> None:
    response = client.head("/domande/", headers={"host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/domande"


def test_a_server_behind_a_proxy_redirects_relatively_too(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, base_url="https://greenweb.example")
    with TestClient(create_app(settings), base_url="https://greenweb.example") as client:
        response = client.get(
            "/risorse/?tipo=leggere",
            headers={"host": "evil.example", "x-forwarded-host": "evil.example"},
            follow_redirects=False,
        )
    assert response.status_code == 308
    assert response.headers["location"] == "/risorse?tipo=leggere"
