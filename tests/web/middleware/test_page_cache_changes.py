"""The page cache invalidates by what a page shows, and renders a page once for many
concurrent misses: a vote leaves the bulletin's pages cached, an import the board's; a
page declares what it shows; no render that began before a write serves a request that
came after it, and none is kept as current."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb import changes
from greenweb.asgi_client import Captured, request, running
from greenweb.changes import (
    BULLETIN,
    COUNTS,
    EVERYTHING,
    LOG,
    NUMERI,
    QUESTIONS,
    RESOURCES,
    ChangeLog,
)
from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.middleware.page_cache import PageStore
from greenweb.web.shows import shows
from greenweb.web.site import site_of
from support import SEED_TODAY, import_seed, retitle_first_item
from support.board import Clock, publish_directly, token_for

BR = {"Accept-Encoding": "br"}
BR_RAW = [(b"accept-encoding", b"br")]


def store_of(app: Starlette) -> PageStore:
    return site_of(app).page_store


@dataclass
class Board:
    client: TestClient
    settings: Settings
    clock: Clock
    question: int

    @property
    def store(self) -> PageStore:
        return store_of(self.client.app)  # type: ignore[arg-type]

    def vote(self) -> str:
        """Say "anch'io" as a visitor does; return the page the 303 leads to."""
        page = self.client.get(f"/domande/{self.question}")
        self.clock.advance(10)
        answer = self.client.post(
            f"/domande/{self.question}/anchio",
            data={"token": token_for(page.text, f"/domande/{self.question}/anchio")},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        location: str = answer.headers["location"]
        return location

    def take_back(self) -> None:
        """Take the "anch'io" back with the button the question page then shows."""
        action = f"/domande/{self.question}/anchio/ritira"
        page = self.client.get(f"/domande/{self.question}")
        self.clock.advance(10)
        answer = self.client.post(
            action, data={"token": token_for(page.text, action)}, follow_redirects=False
        )
        assert answer.status_code == 303


@pytest.fixture
def board(seeded_settings: Settings) -> Iterator[Board]:
    clock = Clock()
    app = create_app(seeded_settings, today=lambda: SEED_TODAY, clock=clock)
    with TestClient(app) as client:
        question = publish_directly(seeded_settings, topic="clima")[0]
        yield Board(client, seeded_settings, clock, question)


def hits_and_misses(store: PageStore) -> tuple[int, int]:
    return store.stats.hits, store.stats.misses


BULLETIN_PAGES = ["/", "/bollettino", "/scadenze", "/eventi", "/feed.xml", "/calendario.ics"]
COUNTED_LISTS = ["/domande", "/domande?ordine=condivise", "/domande?tema=clima"]
BOARD_PAGES = ["/pillole", "/risorse", "/moderazione/registro"]


def test_a_vote_leaves_the_bulletin_cached_and_re_renders_its_question_and_the_lists(
    board: Board,
) -> None:
    client, store = board.client, board.store
    for path in BULLETIN_PAGES + COUNTED_LISTS + BOARD_PAGES:
        client.get(path, headers=BR)
    before = {path: client.get(path, headers=BR).content for path in BULLETIN_PAGES}
    assert "0 anch'io" in client.get("/domande", headers=BR).text
    target = board.vote()

    hits, misses = hits_and_misses(store)
    after = {path: client.get(path, headers=BR).content for path in BULLETIN_PAGES}
    assert after == before
    for path in BOARD_PAGES:  # no count on them: kept too
        client.get(path, headers=BR)
    assert hits_and_misses(store) == (hits + len(BULLETIN_PAGES) + len(BOARD_PAGES), misses)
    for path in COUNTED_LISTS:
        page = client.get(path, headers=BR).text
        assert "1 anch'io" in page and "0 anch'io" not in page, path
    assert store.stats.misses == misses + len(COUNTED_LISTS)
    # The voter's page: their vote is counted there.
    assert target == f"/domande/{board.question}#anchio"
    assert "Hai detto «anch'io»: sei l'unica persona" in html.unescape(client.get(target).text)


def test_a_taken_back_vote_changes_the_cached_list_counts_and_leaves_the_bulletin(
    board: Board,
) -> None:
    client = board.client
    board.vote()
    for path in BULLETIN_PAGES + COUNTED_LISTS:
        client.get(path, headers=BR)
    assert all("1 anch'io" in client.get(path, headers=BR).text for path in COUNTED_LISTS)
    board.take_back()
    hits, misses = hits_and_misses(board.store)
    for path in BULLETIN_PAGES:
        client.get(path, headers=BR)
    assert hits_and_misses(board.store) == (hits + len(BULLETIN_PAGES), misses)
    for path in COUNTED_LISTS:
        page = client.get(path, headers=BR).text
        assert "0 anch'io" in page and "1 anch'io" not in page, path
    assert board.store.stats.misses == misses + len(COUNTED_LISTS)


def test_an_import_leaves_the_board_cached_and_re_renders_the_bulletin(
    board: Board, seed_copy: Path
) -> None:
    client, store = board.client, board.store
    for path in BULLETIN_PAGES + COUNTED_LISTS + BOARD_PAGES:
        client.get(path, headers=BR)
    retitle_first_item(seed_copy, "Titolo importato ora")
    import_seed(board.settings, seed_copy)  # another process, as `greenweb import` is

    hits, misses = hits_and_misses(store)
    for path in COUNTED_LISTS + BOARD_PAGES:
        client.get(path, headers=BR)
    assert hits_and_misses(store) == (hits + len(COUNTED_LISTS) + len(BOARD_PAGES), misses)
    assert "Titolo importato ora" in client.get("/bollettino", headers=BR).text
    assert store.stats.misses == misses + 1


# What each kept page shows, as its view declares it: everything the template reads.
DECLARED = {
    "/": {BULLETIN},
    "/bollettino": {BULLETIN},
    "/bollettino?tipo=bando": {BULLETIN},
    "/scadenze": {BULLETIN},
    "/eventi": {BULLETIN},
    "/cerca?q=bando": {BULLETIN, QUESTIONS, RESOURCES},
    "/feed.xml": {BULLETIN},
    "/calendario.ics": {BULLETIN},
    "/sitemap.xml": {BULLETIN, QUESTIONS, NUMERI},
    "/bollettino/numeri": {NUMERI},
    # A numero's entries link their items while published and say when they changed since.
    "/bollettino/numeri/1": {NUMERI, BULLETIN},
    "/bollettino/numeri/feed.xml": {NUMERI, BULLETIN},
    "/robots.txt": set(),
    "/carbon.txt": set(),
    "/impronta": {EVERYTHING},
    "/domande": {QUESTIONS, COUNTS},
    "/domande?ordine=con-risposta&tema=clima": {QUESTIONS, COUNTS},
    "/pillole": {QUESTIONS},
    "/risorse": {RESOURCES},
    "/risorse?tipo=leggere": {RESOURCES},
    "/moderazione/registro": {LOG},
    "/domande/grazie": set(),
    "/domande/segnalazione-ricevuta": set(),
}


def test_every_kept_page_declares_what_it_shows(board: Board) -> None:
    client = board.client
    item = re.search(r'<h2><a href="(/bollettino/[^"?]+)"', client.get("/bollettino").text)
    css = re.search(r'href="(/static/[^"]+)"', client.get("/").text)
    assert item and css
    pages = {**DECLARED, item.group(1): {BULLETIN}, css.group(1): set()}
    for path in pages:
        assert client.get(path, headers=BR).status_code == 200, path
    log = ChangeLog(board.settings.db_path)
    log.read()
    found = {}
    for path in pages:
        target, _, query = path.partition("?")
        entry = board.store.get((target, query.encode(), "br"), log)
        assert entry is not None, f"{path} was not kept"
        found[path] = entry.shows
    log.close()
    assert found == pages


async def undeclared_GET(request: Request) -> Response:
    return Response("<p>una pagina che non dice che cosa mostra</p>", media_type="text/html")


def test_a_page_that_declares_nothing_is_stale_after_any_write(board: Board) -> None:
    client = board.client
    client.app.router.routes.insert(0, Route("/test/muta", undeclared_GET))  # type: ignore[attr-defined]
    client.get("/test/muta", headers=BR)
    client.get("/test/muta", headers=BR)
    client.get("/bollettino", headers=BR)
    assert board.store.stats.hits == 1
    board.vote()
    hits, misses = hits_and_misses(board.store)
    client.get("/test/muta", headers=BR)
    client.get("/bollettino", headers=BR)
    assert hits_and_misses(board.store) == (hits + 1, misses + 1)


# --- single flight ------------------------------------------------------------------------


@dataclass
class Held:
    """Test pages whose render waits until the test lets it go, counting renders."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    renders: int = 0
    serial: int = 0

    async def page_GET(self, request: Request) -> Response:
        shows(request, BULLETIN)
        self.renders += 1
        self.serial += 1
        mine = self.serial
        await self.release.wait()
        return Response(f"<p>resa numero {mine}</p>", media_type="text/html")

    async def form_GET(self, request: Request) -> Response:
        self.renders += 1
        self.serial += 1
        mine = self.serial
        await self.release.wait()
        return Response(
            f"<form><input name=token value={mine}></form>",
            media_type="text/html",
            headers={"Cache-Control": "no-store"},
        )


async def settle() -> None:
    """Let every task that can run, run (they all wait on the test's event then)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def write(app: Starlette, *names: str) -> None:
    async with site_of(app).db.transaction() as conn:
        await changes.record(conn, *names)


Scenario = Callable[[Starlette, Held], Awaitable[None]]


def with_held_pages(settings: Settings, scenario: Scenario) -> None:
    """Run ``scenario`` on a started app that has the held test pages."""

    async def main() -> None:
        held = Held()
        app = create_app(settings, today=lambda: SEED_TODAY)
        app.router.routes[:0] = [
            Route("/test/attesa", held.page_GET),
            Route("/test/modulo", held.form_GET),
        ]
        async with running(app):
            await scenario(app, held)

    asyncio.run(main())


def get(app: Starlette, path: str, method: str = "GET") -> asyncio.Task[Captured]:
    return asyncio.ensure_future(request(app, path, method=method, headers=BR_RAW))


def test_concurrent_misses_wait_for_one_render(seeded_settings: Settings) -> None:
    async def scenario(app: Starlette, held: Held) -> None:
        tasks = [get(app, "/test/attesa") for _ in range(7)] + [get(app, "/test/attesa", "HEAD")]
        await settle()
        assert held.renders == 1
        held.release.set()
        answers = await asyncio.gather(*tasks)
        store = store_of(app)
        assert {a.body for a in answers[:7]} == {answers[0].body}
        assert answers[7].body == b"" and answers[7].headers == answers[0].headers
        assert (store.stats.misses, store.stats.joined, held.renders) == (1, 7, 1)
        again = await request(app, "/test/attesa", headers=BR_RAW)
        assert again.body == answers[0].body and store.stats.hits == 1

    with_held_pages(seeded_settings, scenario)


def test_a_request_after_a_write_never_joins_a_render_begun_before_it(
    seeded_settings: Settings,
) -> None:
    async def scenario(app: Starlette, held: Held) -> None:
        before = [get(app, "/test/attesa") for _ in range(3)]
        await settle()
        await write(app, QUESTIONS)  # not shown by the page: still a new sequence
        after = [get(app, "/test/attesa") for _ in range(3)]
        await settle()
        assert held.renders == 2
        held.release.set()
        first = {a.body for a in await asyncio.gather(*before)}
        second = {a.body for a in await asyncio.gather(*after)}
        assert len(first) == len(second) == 1 and first != second

    with_held_pages(seeded_settings, scenario)


def test_a_page_rendered_while_a_write_to_what_it_shows_commits_is_not_kept(
    seeded_settings: Settings,
) -> None:
    async def scenario(app: Starlette, held: Held) -> None:
        store = store_of(app)
        waiting = [get(app, "/test/attesa") for _ in range(2)]
        await settle()
        await write(app, BULLETIN)
        held.release.set()
        answers = await asyncio.gather(*waiting)
        assert answers[0].body == answers[1].body  # both came before the write
        assert len(store) == 0
        fresh = await request(app, "/test/attesa", headers=BR_RAW)
        assert fresh.body != answers[0].body and held.renders == 2
        # A write to something else, during a render: the page is kept.
        held.release.clear()
        waiting = [get(app, "/test/attesa?altra=1")]
        await settle()
        await write(app, COUNTS)
        held.release.set()
        await asyncio.gather(*waiting)
        assert ("/test/attesa", b"altra=1", "br") in store.keys()

    with_held_pages(seeded_settings, scenario)


def test_concurrent_misses_of_a_page_for_one_visitor_each_render_their_own(
    seeded_settings: Settings,
) -> None:
    async def scenario(app: Starlette, held: Held) -> None:
        tasks = [get(app, "/test/modulo") for _ in range(4)]
        await settle()
        held.release.set()
        answers = await asyncio.gather(*tasks)
        assert len({a.body for a in answers}) == 4  # four tokens, none shared
        assert held.renders == 4 and len(store_of(app)) == 0

    with_held_pages(seeded_settings, scenario)
