"""If-None-Match: 304s with the right headers, per content coding, from the whole app."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from greenweb.web.app import create_app
from greenweb.web.site import site_of
from support import SEED_TODAY, import_seed, make_settings

BR = {"Accept-Encoding": "br"}


def test_matching_etag_gets_304_with_the_headers_of_the_200(client: TestClient) -> None:
    page = client.get("/bollettino", headers=BR)
    response = client.get("/bollettino", headers={**BR, "If-None-Match": page.headers["etag"]})
    assert response.status_code == 304
    assert response.content == b""
    for name in ("etag", "vary", "cache-control"):
        assert response.headers[name] == page.headers[name]
    for name in ("content-length", "content-type", "content-encoding"):
        assert name not in response.headers


def test_etag_in_a_list_or_weak_or_star_also_gets_304(client: TestClient) -> None:
    etag = client.get("/", headers=BR).headers["etag"]
    for header in (f'"nope", {etag}', f"W/{etag}", "*"):
        response = client.get("/", headers={**BR, "If-None-Match": header})
        assert response.status_code == 304, header


def test_stale_etag_gets_the_full_page(client: TestClient) -> None:
    response = client.get("/", headers={**BR, "If-None-Match": '"0000000000000000-br"'})
    assert response.status_code == 200
    assert len(response.content) > 0


def test_each_coding_has_its_own_etag_and_they_do_not_cross(client: TestClient) -> None:
    tags = {
        c: client.get("/eventi", headers={"Accept-Encoding": c}).headers["etag"]
        for c in ("br", "gzip", "identity")
    }
    assert len(set(tags.values())) == 3
    crossed = client.get(
        "/eventi", headers={"Accept-Encoding": "gzip", "If-None-Match": tags["br"]}
    )
    assert crossed.status_code == 200
    assert crossed.headers["content-encoding"] == "gzip"


def test_head_with_matching_etag_gets_304(client: TestClient) -> None:
    etag = client.get("/scadenze", headers=BR).headers["etag"]
    response = client.head("/scadenze", headers={**BR, "If-None-Match": etag})
    assert response.status_code == 304


def test_etag_stays_the_same_across_restarts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    import_seed(settings)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        cached = client.get("/bollettino", headers=BR).headers["etag"]
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        response = client.get("/bollettino", headers={**BR, "If-None-Match": cached})
    # Same bytes from another process (or worker): the browser's copy is still good.
    assert response.status_code == 304


def test_etag_changes_when_the_content_changes(client: TestClient) -> None:
    import sqlite3

    before = client.get("/bollettino", headers=BR).headers["etag"]
    conn = sqlite3.connect(site_of(client.app).settings.db_path)
    with conn:
        conn.execute("UPDATE bulletin_item SET title = 'Altro titolo' WHERE id = 1")
        conn.execute("UPDATE content_version SET version = version + 1")
    conn.close()
    response = client.get("/bollettino", headers={**BR, "If-None-Match": before})
    assert response.status_code == 200
    assert response.headers["etag"] != before


def test_post_ignores_if_none_match(client: TestClient) -> None:
    etag = client.get("/", headers=BR).headers["etag"]
    response = client.post("/", headers={"If-None-Match": etag})
    assert response.status_code == 405


def test_error_pages_are_not_turned_into_304(client: TestClient) -> None:
    response = client.get("/bollettino/non-esiste", headers={**BR, "If-None-Match": "*"})
    assert response.status_code == 404
