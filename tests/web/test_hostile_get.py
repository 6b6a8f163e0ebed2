"""Every hostile value in every query parameter and path segment of every GET page.

For each (target, case): the expected status (never 5xx), no cookie, no active content,
no unescaped echo; afterwards the server is healthy and no table changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from starlette.testclient import TestClient

from greenweb.bulletin.items import KINDS
from greenweb.config import Settings
from greenweb.pagination import PageNumberError, parse_page
from greenweb.search import KINDS as SEARCH_KINDS
from greenweb.search import MAX_QUERY_CHARS
from greenweb.web.app import create_app
from greenweb.web.middleware.limits import DEFAULT_MAX_URL_BYTES
from support import SEED_TODAY
from support.hostile import (
    HOSTILE,
    Hostile,
    assert_healthy,
    assert_reflected_escaped,
    assert_safe_response,
    assert_unchanged,
    table_counts,
)

REPO = Path(__file__).resolve().parents[2]
# httpx refuses URLs over 64 KB; values are cut below that (see Hostile.clipped).
MAX_CLIENT_URL_BYTES = 6_000


def page_status(text: str, pages: int) -> int:
    try:
        number = parse_page(text)
    except PageNumberError:
        return 400
    return 200 if number <= pages else 404


def tipo_status(text: str) -> int:
    return 200 if text == "" or text in KINDS else 400


def tag_status(text: str) -> int:
    if text == "":
        return 200
    return 400 if len(text) > 40 else 404  # no seed item has a hostile tag


def q_status(text: str) -> int:
    return 400 if len(text.strip()) > MAX_QUERY_CHARS else 200


def in_status(text: str) -> int:
    return 200 if text == "" or text in SEARCH_KINDS else 400


@dataclass(frozen=True)
class Target:
    name: str
    url: Callable[[Hostile], str]
    status: Callable[[str], int]  # for a value that passes the URL checks


TARGETS = (
    Target("bollettino-tipo", lambda c: f"/bollettino?tipo={c.query()}", tipo_status),
    Target("bollettino-tag", lambda c: f"/bollettino?tag={c.query()}", tag_status),
    Target(
        "bollettino-page", lambda c: f"/bollettino?page={c.query()}", lambda t: page_status(t, 1)
    ),
    Target(
        "bollettino-all",
        lambda c: f"/bollettino?tipo={c.query()}&tag={c.query()}&page={c.query()}",
        lambda t: 200 if t == "" else 400 if tipo_status(t) == 400 else tag_status(t),
    ),
    Target("cerca-q", lambda c: f"/cerca?q={c.query()}", q_status),
    Target("cerca-page", lambda c: f"/cerca?page={c.query()}", lambda t: page_status(t, 10**9)),
    Target("cerca-repeated-q", lambda c: f"/cerca?q=clima&q={c.query()}", q_status),
    Target("cerca-in", lambda c: f"/cerca?q=clima&in={c.query()}", in_status),
    Target("cerca-domande-q", lambda c: f"/cerca?in=domande&q={c.query()}", q_status),
    Target("cerca-risorse-q", lambda c: f"/cerca?in=risorse&q={c.query()}", q_status),
    # The groups are one page; a kind's hits for "clima" in the seed fit in one page too.
    Target(
        "cerca-groups-page",
        lambda c: f"/cerca?q=clima&page={c.query()}",
        lambda t: page_status(t, 1),
    ),
    Target(
        "cerca-in-page",
        lambda c: f"/cerca?q=clima&in=risorse&page={c.query()}",
        lambda t: page_status(t, 1),
    ),
    Target(
        "cerca-in-and-page",
        lambda c: f"/cerca?q=clima&in={c.query()}&page={c.query()}",
        lambda t: 200 if t == "" else 400 if in_status(t) == 400 else page_status(t, 1),
    ),
    # "/bollettino/" is redirected to "/bollettino" (and followed).
    Target(
        "bollettino-slug",
        lambda c: f"/bollettino/{c.segment()}",
        lambda t: 200 if t == "" else 404,
    ),
    Target("static-name", lambda c: f"/static/{c.segment()}", lambda t: 404),
    # The e-mails' signed links: anything but a token is a forged link, a clear 400 page
    # (a value with a slash, even one encoded twice, is refused as a path of no route).
    *(
        Target(
            f"iscriviti-{purpose}",
            lambda c, purpose=purpose: f"/iscriviti/{purpose}/{c.segment()}",
            lambda t, empty=empty: empty if t == "" else 404 if "/" in unquote(t) else 400,
        )
        # Without a token, "/iscriviti/gestisci/" is redirected to the form (and followed).
        for purpose, empty in (("conferma", 404), ("annulla", 404), ("gestisci", 200))
    ),
    # The asker's private feed and the thank-you page that gives it: anything but a token
    # of ours opens nothing, a clear 404 page.
    Target("seguo-token", lambda c: f"/domande/seguo/{c.segment()}.xml", lambda t: 404),
    Target(
        "grazie-token",
        lambda c: f"/domande/grazie?t={c.query()}",
        lambda t: 404,
    ),
    Target("tema-feed", lambda c: f"/domande/temi/{c.segment()}/feed.xml", lambda t: 404),
    # The board in the open: no parameter means anything, so every value gets the page.
    *(
        Target(
            f"domande-{name}",
            lambda c, path=path: f"{path}?x={c.query()}&page={c.query()}",
            lambda t: 200,
        )
        for name, path in (
            ("dati", "/domande/dati"),
            ("dati-csv", "/domande/dati.csv"),
            ("dati-json", "/domande/dati.json"),
            ("ebook", "/domande/ebook.epub"),
            ("regole", "/domande/regole"),
        )
    ),
    Target("unknown-path", lambda c: f"/pagina-{c.segment()}", lambda t: 404),
    Target("home-extra-param", lambda c: f"/?x={c.query()}", lambda t: 200),
)


def expected_status(target: Target, case: Hostile) -> int:
    url = target.url(case)
    if len(url) - url.count("?") > DEFAULT_MAX_URL_BYTES:
        return 414
    if case.refused_in_url:
        return 400
    assert case.text is not None
    return target.status(case.text)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    from support import import_seed, make_settings

    settings: Settings = make_settings(tmp_path_factory.mktemp("hostile-get"))
    import_seed(settings)
    app = create_app(settings, today=lambda: SEED_TODAY)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, settings.db_path


def test_the_table_is_big_and_varied() -> None:
    assert len(HOSTILE) >= 60
    kinds = {case.kind for case in HOSTILE}
    for kind in ("script", "url", "sql", "control", "encoding", "bidi", "size", "traversal"):
        assert kind in kinds


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_every_hostile_value_in_every_get_parameter(
    hostile_app: tuple[TestClient, Path], target: Target
) -> None:
    client, db_path = hostile_app
    before = table_counts(db_path)
    failures = []
    for full_case in HOSTILE:
        case = full_case.clipped(MAX_CLIENT_URL_BYTES)
        expected = expected_status(target, case)
        response = client.get(target.url(case))
        try:
            assert_safe_response(response, case, {expected})
        except AssertionError as error:
            failures.append(f"{case.name}: {error}")
    assert not failures, "\n".join(failures[:20])
    assert_healthy(client)
    assert_unchanged(db_path, before)


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in HOSTILE
        if not c.refused_in_url and 0 < len((c.text or "").strip()) <= MAX_QUERY_CHARS
    ],
    ids=lambda c: c.name,
)
def test_search_words_are_shown_back_escaped(
    hostile_app: tuple[TestClient, Path], case: Hostile
) -> None:
    client, _ = hostile_app
    response = client.get(f"/cerca?q={case.query()}")
    assert response.status_code == 200
    assert case.text is not None
    assert_reflected_escaped(response.text, case.text.strip())


def test_search_that_is_too_long_is_shown_back_cut_and_escaped(
    hostile_app: tuple[TestClient, Path],
) -> None:
    client, _ = hostile_app
    value = '<script>alert("x")</script>' * 20
    response = client.get("/cerca", params={"q": value})
    assert response.status_code == 400
    assert "al massimo 200" in response.text
    assert_reflected_escaped(response.text, value[:200])


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2Fpyproject.toml",
        "/static/..%2F..%2Fpyproject.toml",
        "/static/%2E%2E%2Fpyproject.toml",
        "/static/%2E%2E%2F%2E%2E%2Fpyproject.toml",
        "/static/..%5Cpyproject.toml",
        "/static/%252e%252e%252fpyproject.toml",
        "/static/..%C0%AFpyproject.toml",
        "/static/....%2F%2Fpyproject.toml",
        "/static/%2Fetc%2Fpasswd",
        "/static/style.css%00.css",
    ],
)
def test_static_path_traversal_reaches_no_file_outside(
    hostile_app: tuple[TestClient, Path], path: str
) -> None:
    client, _ = hostile_app
    assert (REPO / "pyproject.toml").is_file()  # the file an attacker would want
    response = client.get(path)
    assert response.status_code in {400, 404}
    assert b"[build-system]" not in response.content
    assert b"root:" not in response.content


def test_wrong_methods_on_get_pages_are_405(hostile_app: tuple[TestClient, Path]) -> None:
    client, db_path = hostile_app
    before = table_counts(db_path)
    for path in ("/", "/bollettino", "/cerca", "/bollettino/horizon-europe", "/healthz"):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response = client.request(method, path, content=b"x=1")
            assert response.status_code == 405, (method, path)
    assert_unchanged(db_path, before)
