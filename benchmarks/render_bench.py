"""Fixtures of footprint's benchmarks: the app over small (seed) and large (synthetic) data,
kept running. ``conftest.py`` re-exports the fixtures; test modules import from here (two
``conftest`` modules exist under ``benchmarks/``, so ``from conftest import`` would get
whichever pytest loaded last: serving's, when the whole folder runs).

``GREENWEB_BENCH_DATA`` picks the data sets: ``small``, ``large`` or ``all`` (default).
``GREENWEB_BENCH_ROUNDS`` sets the rounds per benchmark (default 20); ``make test`` runs
one round over the small data only, to prove the suite works and keep its JSON.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

import board_data
from generate_data import generate
from greenweb import changes
from greenweb.asgi_client import Captured, request, running
from greenweb.board import moderation_log, questions
from greenweb.board.topics import list_topics
from greenweb.bulletin.importer import import_directory
from greenweb.config import Settings
from greenweb.db import Database, fetch_value
from greenweb.footprint.measure import DOCUMENT_ACCEPT, PageResult, Target, measure_page
from greenweb.web.app import create_app
from greenweb.web.site import site_of
from greenweb.web.views.footprint import collect_targets

REPO = Path(__file__).resolve().parent.parent
SEED_DIR = REPO / "data" / "bulletin"
# The seed's deadlines fall in 2021: this day keeps some open (as in tests/conftest.py).
TODAY = date(2021, 9, 4)
LARGE_ITEMS = 2000
LARGE_QUESTIONS = 10_000
# The seed has no questions: a few board pages' worth, so the quick pass (small data only)
# runs the board's lists, their deep pages and a question page too.
SMALL_QUESTIONS = 45


def selected_data_sets() -> list[str]:
    choice = os.environ.get("GREENWEB_BENCH_DATA", "all").strip().lower()
    return ["small", "large"] if choice in ("", "all") else [choice]


def rounds() -> int:
    return max(1, int(os.environ.get("GREENWEB_BENCH_ROUNDS", "20")))


@dataclass
class Site:
    """One running app over one data set, driven from one event loop."""

    name: str
    settings: Settings
    runner: asyncio.Runner
    app: Any
    state: dict[str, Any]
    targets: dict[str, Target]
    measured: dict[str, PageResult] = field(default_factory=dict)

    def get(self, path: str) -> Captured:
        return self.runner.run(
            request(
                self.app,
                path,
                base_url=self.settings.base_url,
                headers=[(b"accept", DOCUMENT_ACCEPT.encode()), (b"accept-encoding", b"br")],
                state=self.state,
                raise_app_errors=False,
            )
        )

    def bump_content_version(self) -> None:
        """What any write to public content does: every page cache keyed on it misses."""

        async def bump() -> None:
            async with site_of(self.app).db.transaction() as conn:
                await changes.record(conn, changes.EVERYTHING)

        self.settle()
        self.runner.run(bump())

    def settle(self) -> None:
        """Let a background measurement for /impronta finish, so it times nothing else."""
        self.runner.run(site_of(self.app).footprint.settled())

    def measure(self, target: Target) -> PageResult:
        if target.id not in self.measured:
            self.measured[target.id] = self.runner.run(
                measure_page(
                    self.app,
                    target,
                    model=self.settings.carbon_model,
                    base_url=self.settings.base_url,
                    state=self.state,
                    repeats=0,
                )
            )
        return self.measured[target.id]


async def _seed(settings: Settings) -> None:
    db = Database(settings.db_path)
    await db.open()
    try:
        await import_directory(db, SEED_DIR)
        await board_data.add_questions(db, SMALL_QUESTIONS, quiet=True)
    finally:
        await db.close()


async def board_bench_targets(app: Any) -> list[Target]:
    """Board addresses the footprint check leaves out but the benchmarks time: every sort
    and a topic filter, page 1 and the last page of each list, the generated sample
    question (answered, with resources and a theatre piece)."""
    conn = site_of(app).db.reader
    found: list[Target] = []
    lists: list[tuple[str, str, dict[str, str], int]] = []
    for sort in questions.SORTS:
        pages = (await questions.list_questions(conn, sort=sort)).pages
        lists.append((f"questions_{sort}", "/domande", {"ordine": sort}, pages))
    topic = (await list_topics(conn))[0].slug
    pages = (await questions.list_questions(conn, topic=topic)).pages
    lists.append(("questions_topic", "/domande", {"tema": topic}, pages))
    lists.append(("pills_p1", "/pillole", {}, (await questions.list_pieces(conn)).pages))
    lists.append(
        ("log_p1", "/moderazione/registro", {}, (await moderation_log.log_entries(conn)).pages)
    )
    for target_id, path, query, pages in lists:
        first = f"{path}?{urlencode(query)}" if query else path
        found.append(Target(target_id, first, f"{target_id}, pagina 1"))
        if pages > 1:
            deep = f"{path}?{urlencode({**query, 'page': pages})}"
            found.append(Target(f"{target_id}_deep", deep, f"{target_id}, pagina {pages}"))
    # board_data.SAMPLE_QUESTION with 10,000 questions; the last such question with fewer.
    number = await fetch_value(
        conn,
        "SELECT max(id) FROM questions WHERE state = 'pubblicata' AND piece_at IS NOT NULL "
        "AND answered_at IS NOT NULL AND id <= ?",
        (board_data.SAMPLE_QUESTION,),
    )
    if number:
        found.append(Target("question_sample", f"/domande/{number}", "Domanda con risposta"))
    return found


def _open_site(name: str, folder: Path) -> Iterator[Site]:
    settings = Settings(
        db_path=folder / "greenweb.db",
        secret="benchmark-secret",
        base_url="http://testserver",
    )
    if name == "small":
        asyncio.run(_seed(settings))
    else:
        asyncio.run(
            generate(settings.db_path, items=LARGE_ITEMS, questions=LARGE_QUESTIONS, seed=1)
        )
    app = create_app(settings, today=lambda: TODAY)
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        state = runner.run(stack.enter_async_context(running(app)))
        try:
            found, _ = runner.run(collect_targets(app))
            found += runner.run(board_bench_targets(app))
            yield Site(name, settings, runner, app, state, {t.id: t for t in found})
        finally:
            runner.run(stack.aclose())


@pytest.fixture(scope="session")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from _open_site("small", tmp_path_factory.mktemp("small"))


# Questions of the board-only database with GREENWEB_BENCH_DATA=small (make test's quick pass).
SMALL_BOARD_QUESTIONS = 400


@pytest.fixture(scope="session")
def board_db(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Database, asyncio.AbstractEventLoop]]:
    """The board alone, from the shared generator (10,000 questions with the large data set,
    SMALL_BOARD_QUESTIONS otherwise), and the loop its connections run on: the list and
    search benchmarks read it, domain queries only."""
    count = LARGE_QUESTIONS if "large" in selected_data_sets() else SMALL_BOARD_QUESTIONS
    path = Path(tmp_path_factory.mktemp("bench-board")) / "board.db"
    loop = asyncio.new_event_loop()
    database = Database(path)
    loop.run_until_complete(database.open())
    loop.run_until_complete(board_data.add_questions(database, count, quiet=True))
    yield database, loop
    loop.run_until_complete(database.close())
    loop.close()


@pytest.fixture(scope="session")
def large_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from _open_site("large", tmp_path_factory.mktemp("large"))
