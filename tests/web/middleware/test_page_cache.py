"""The page cache: hits, HEAD, invalidation by the write sequence, the LRU bound, and what
must never be kept (per-visitor pages, cookies, errors). Invalidation by what a page
shows and single flight: test_page_cache_changes.py."""

from __future__ import annotations

import itertools
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb import changes
from greenweb.changes import ChangeLog
from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.web.app import create_app
from greenweb.web.middleware.page_cache import Entry, PageStore, storable
from greenweb.web.site import site_of
from support import SEED_TODAY, import_seed, make_settings, retitle_first_item

BR = {"Accept-Encoding": "br"}


def store_of(client: TestClient) -> PageStore:
    store: PageStore = site_of(client.app).page_store
    return store


# Each response gets its own token, as a visitor's form does: a counter, not random bytes,
# so "two tokens differ" holds on every run.
_tokens = itertools.count(1)


def next_token() -> str:
    return f"{next(_tokens):016x}"


def token_of(text: str) -> str:
    found = re.search(r'name="token" value="([0-9a-f]+)"', text)
    assert found is not None
    return found.group(1)


async def form_GET(request: Request) -> Response:
    """A page with a per-visitor form token, as the board's forms will be."""
    token = next_token()
    return Response(
        f'<!doctype html><form method="post"><input name="token" value="{token}"></form>',
        media_type="text/html",
        headers={"Cache-Control": "no-store"},
    )


async def private_GET(request: Request) -> Response:
    return Response(f"<p>{next_token()}</p>", headers={"Cache-Control": "private"})


async def cookie_GET(request: Request) -> Response:
    response = Response(f'<p name="token" value="{next_token()}"></p>')
    response.set_cookie("grazie", "1")
    return response


async def whoami_GET(request: Request) -> Response:
    """Varies with the visitor's cookie, like a page seen by a logged-in moderator."""
    who = request.cookies.get("session", "anonimo")
    return Response(f"<p>ciao {who}</p>", media_type="text/html")


async def write_POST(request: Request) -> Response:
    """A public write that says nothing of what it changed (a bare move of the write
    sequence: everything, for the page cache), in one transaction."""
    async with site_of(request).db.transaction() as conn:
        await conn.execute(
            "UPDATE bulletin_item SET title = 'Titolo cambiato da un POST' "
            "WHERE id = (SELECT min(id) FROM bulletin_item)"
        )
        await conn.execute("UPDATE content_version SET version = version + 1")
    return Response(status_code=303, headers={"Location": "/bollettino"})


@pytest.fixture
def test_client(seeded_settings: Settings) -> Iterator[TestClient]:
    app = create_app(seeded_settings, today=lambda: SEED_TODAY)
    app.router.routes.extend(
        [
            Route("/test/form", form_GET),
            Route("/test/private", private_GET),
            Route("/test/cookie", cookie_GET),
            Route("/test/whoami", whoami_GET),
            Route("/test/write", write_POST, methods=["POST"]),
        ]
    )
    with TestClient(app) as client:
        yield client


def test_second_view_is_served_from_the_cache_with_the_same_bytes(client: TestClient) -> None:
    first = client.get("/bollettino", headers=BR)
    second = client.get("/bollettino", headers=BR)
    stats = store_of(client).stats
    assert (stats.misses, stats.hits) == (1, 1)
    assert second.content == first.content
    assert second.headers == first.headers


def test_each_coding_is_a_separate_entry(client: TestClient) -> None:
    for coding in ("br", "gzip", "identity", "br"):
        client.get("/", headers={"Accept-Encoding": coding})
    assert sorted(key[2] for key in store_of(client).keys()) == ["br", "gzip", "identity"]
    assert store_of(client).stats.hits == 1


def test_query_string_is_part_of_the_key(client: TestClient) -> None:
    all_items = client.get("/bollettino", headers=BR)
    calls = client.get("/bollettino?tipo=bando", headers=BR)
    assert all_items.content != calls.content
    assert store_of(client).stats.hits == 0


def test_head_answers_like_get_without_body_and_fills_the_cache(client: TestClient) -> None:
    head = client.head("/scadenze", headers=BR)
    assert head.content == b""
    get = client.get("/scadenze", headers=BR)
    assert store_of(client).stats.hits == 1  # the HEAD's miss stored the page for the GET
    assert head.headers == get.headers
    assert int(head.headers["content-length"]) > 0
    again = client.head("/scadenze", headers=BR)
    assert again.content == b""
    assert again.headers == get.headers


def test_head_on_an_uncached_page_has_no_body(test_client: TestClient) -> None:
    head = test_client.head("/test/form", headers=BR)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0


def test_a_write_in_this_process_is_visible_at_once(test_client: TestClient) -> None:
    before = test_client.get("/bollettino", headers=BR)
    assert "Titolo cambiato da un POST" not in before.text
    posted = test_client.post("/test/write", follow_redirects=False)
    assert posted.status_code == 303
    after = test_client.get("/bollettino", headers=BR)
    assert "Titolo cambiato da un POST" in after.text
    assert after.headers["etag"] != before.headers["etag"]


def test_a_write_by_another_process_is_seen_at_once(
    seeded_settings: Settings, seed_copy: Path
) -> None:
    app = create_app(seeded_settings, today=lambda: SEED_TODAY)
    with TestClient(app) as client:
        assert "Un titolo tutto nuovo" not in client.get("/bollettino", headers=BR).text
        retitle_first_item(seed_copy, "Un titolo tutto nuovo")
        import_seed(seeded_settings, seed_copy)  # its own connection, like `greenweb import`
        assert "Un titolo tutto nuovo" in client.get("/bollettino", headers=BR).text
        stats = store_of(client).stats
        assert (stats.invalidated, stats.hits) == (1, 0)


def test_a_direct_database_write_with_a_bump_is_seen(client: TestClient) -> None:
    client.get("/bollettino", headers=BR)
    settings: Settings = site_of(client.app).settings
    conn = sqlite3.connect(settings.db_path)
    with conn:
        conn.execute("UPDATE bulletin_item SET title = 'Scritto a mano' WHERE id = 1")
        conn.execute("UPDATE content_version SET version = version + 1")
    conn.close()
    assert "Scritto a mano" in client.get("/bollettino", headers=BR).text


def test_lru_bound_is_respected_and_recent_pages_stay(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, page_cache_bytes=48_000)
    import_seed(settings)
    app = create_app(settings, today=lambda: SEED_TODAY)
    with TestClient(app) as client:
        store = store_of(client)
        slugs = re.findall(r'href="(/bollettino/[^"]+)"', client.get("/bollettino").text)
        assert len(slugs) >= 8
        for slug in slugs:
            for coding in ("br", "gzip", "identity"):
                client.get(slug, headers={"Accept-Encoding": coding})
                assert store.size <= store.capacity
        assert store.stats.evicted > 0
        assert (slugs[-1], b"", "identity") in store.keys()
        assert (slugs[0], b"", "br") not in store.keys()
        # A hit refreshes an entry: it outlives entries stored after it.
        client.get(slugs[-1], headers={"Accept-Encoding": "identity"})
        hits = store.stats.hits
        client.get(slugs[-1], headers={"Accept-Encoding": "identity"})
        assert store.stats.hits == hits + 1


def entry(key: tuple[str, bytes, str], body: bytes, made_at: int, *shows: str) -> Entry:
    return Entry.of(key, (), body, made_at=made_at, shows=frozenset(shows))


def record(settings: Settings, *names: str) -> int:
    """A write in a process of its own that changed ``names``."""

    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            return await changes.record(conn, *names)

    return with_database(settings.db_path, work)


def test_entries_larger_than_an_eighth_of_the_store_are_not_kept(settings: Settings) -> None:
    record(settings, changes.LOG)
    log = ChangeLog(settings.db_path)
    now = log.read()
    assert now is not None
    store = PageStore(capacity=8_000)
    assert not store.put(("/big", b"", "br"), entry(("/big", b"", "br"), b"x" * 2_000, now), log)
    small = ("/small", b"", "br")
    assert store.put(small, entry(small, b"x" * 500, now), log)
    log.close()


def test_a_page_rendered_before_a_write_is_not_kept_after_it(settings: Settings) -> None:
    record(settings, changes.LOG)
    log = ChangeLog(settings.db_path)
    rendered_at = log.read()
    assert rendered_at is not None
    record(settings, changes.BULLETIN)  # commits while the pages render
    log.read()  # another request saw the write
    store = PageStore(capacity=100_000)
    home, log_page = ("/", b"", "br"), ("/moderazione/registro", b"", "br")
    assert not store.put(home, entry(home, b"old page", rendered_at, changes.BULLETIN), log)
    assert store.put(log_page, entry(log_page, b"log", rendered_at, changes.LOG), log)
    assert list(store.keys()) == [log_page]
    log.close()


def test_a_new_day_empties_the_cache(seeded_settings: Settings) -> None:
    days = [SEED_TODAY]
    app = create_app(seeded_settings, today=lambda: days[0])
    with TestClient(app) as client:
        before = client.get("/scadenze", headers=BR).text
        client.get("/scadenze", headers=BR)
        assert store_of(client).stats.hits == 1
        days[0] = SEED_TODAY.replace(day=SEED_TODAY.day + 1)
        after = client.get("/scadenze", headers=BR).text
        assert store_of(client).stats.hits == 1
        assert after != before  # "scade tra N giorni" moved on


def test_no_store_pages_are_never_kept_and_tokens_never_shared(test_client: TestClient) -> None:
    first = test_client.get("/test/form", headers=BR)
    second = test_client.get("/test/form", headers=BR)
    assert token_of(first.text) != token_of(second.text)
    assert first.headers["cache-control"] == "no-store"
    assert len(store_of(test_client)) == 0


def test_private_and_set_cookie_responses_are_never_kept(test_client: TestClient) -> None:
    for path, cache_control in (("/test/private", "private"), ("/test/cookie", None)):
        one = test_client.get(path, headers=BR)
        two = test_client.get(path, headers=BR)
        assert one.content != two.content
        assert one.headers.get("cache-control") == cache_control
    assert len(store_of(test_client)) == 0


def test_requests_with_cookies_bypass_the_cache_both_ways(test_client: TestClient) -> None:
    moderator = test_client.get("/test/whoami", headers={**BR, "Cookie": "session=moderatrice"})
    assert "ciao moderatrice" in moderator.text
    assert "cache-control" not in moderator.headers
    assert len(store_of(test_client)) == 0
    anonymous = test_client.get("/test/whoami", headers=BR)
    assert "ciao anonimo" in anonymous.text
    assert anonymous.headers["cache-control"].startswith("max-age=")
    # The page kept for anonymous visitors is not what a moderator gets.
    again = test_client.get("/test/whoami", headers={**BR, "Cookie": "session=moderatrice"})
    assert "ciao moderatrice" in again.text


def test_not_found_pages_are_not_kept_nor_marked_shareable(client: TestClient) -> None:
    for _ in range(2):
        response = client.get("/bollettino/non-esiste", headers=BR)
        assert response.status_code == 404
        assert "cache-control" not in response.headers
    assert len(store_of(client)) == 0


def test_pages_carry_the_configured_max_age_and_no_public(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, page_max_age=120)
    import_seed(settings)
    with TestClient(create_app(settings)) as client:
        response = client.get("/eventi", headers=BR)
        client.get("/eventi", headers=BR)
        assert store_of(client).stats.hits == 1  # kept by its max-age
    assert response.headers["cache-control"] == "max-age=120, stale-while-revalidate=600"


def test_static_files_are_kept_by_their_year_long_lifetime(client: TestClient) -> None:
    css = re.search(r'href="(/static/[^"]+)"', client.get("/").text)
    assert css is not None
    hits = store_of(client).stats.hits
    first = client.get(css.group(1), headers=BR)
    again = client.get(css.group(1), headers=BR)
    assert first.headers["cache-control"] == "max-age=31536000, immutable"
    assert again.content == first.content and store_of(client).stats.hits == hits + 1


def test_with_the_cache_off_pages_still_carry_caching_headers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, page_cache_bytes=0)
    import_seed(settings)
    with TestClient(create_app(settings)) as client:
        first = client.get("/", headers=BR)
        second = client.get("/", headers=BR)
        assert len(store_of(client)) == 0
    assert first.headers["cache-control"].startswith("max-age=60,")
    assert first.headers["etag"] == second.headers["etag"]


def test_storable_requires_a_lifetime_and_no_cookie() -> None:
    page = (b"cache-control", b"max-age=60, stale-while-revalidate=600")
    assert storable(200, [page])
    assert storable(200, [(b"cache-control", b"max-age=31536000, immutable")])  # assets
    assert storable(200, [(b"cache-control", b"s-maxage=60")])
    assert not storable(200, [])
    assert not storable(200, [(b"cache-control", b"public")])  # no lifetime: never sent
    assert not storable(404, [page])
    assert not storable(200, [page, (b"set-cookie", b"a=b")])
    assert not storable(200, [(b"cache-control", b"max-age=60, no-store")])
    assert not storable(200, [(b"cache-control", b"private, max-age=60")])
    assert not storable(200, [(b"cache-control", b"no-cache, max-age=60")])


def test_change_log_reader_survives_a_missing_database(tmp_path: Path) -> None:
    reader = ChangeLog(tmp_path / "missing" / "greenweb.db")
    assert reader.read() is None
    reader.close()


def test_unreadable_version_bypasses_the_cache(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    import_seed(settings)
    app = create_app(settings, today=lambda: SEED_TODAY)
    with TestClient(app) as client:
        client.get("/", headers=BR)
        shutil.copy(settings.db_path, tmp_path / "backup.db")
        conn = sqlite3.connect(settings.db_path)
        conn.execute("DROP TABLE content_version")
        conn.commit()
        conn.close()
        response = client.get("/", headers=BR)
        assert response.status_code == 200
        assert store_of(client).stats.hits == 0
