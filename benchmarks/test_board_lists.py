"""Page 1 against page 400 of the question lists, with 10,000 questions.

BUDGET.md: "page N of a long list vs page 1 <= 2 x the time". Run with
``.venv/bin/pytest benchmarks/test_board_lists.py`` (not part of ``make test``: timings
are not assertions there). The list query is a covering-index walk, so skipping 7,980
rows reads index entries only.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greenweb import board
from greenweb.db import Database

QUESTIONS = 10_000
FILL = f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {QUESTIONS})
INSERT INTO questions (text, display_name, topic, state, created_at, published_at,
                       answered_at, answer_md, answer_html, updated_at, me_too)
SELECT substr('Domanda ' || i || ' ' || replace(lower(hex(randomblob(500))), '0', ' '), 1, 1000),
       'Persona ' || i, (SELECT slug FROM topics WHERE position = 1 + i % 6), 'pubblicata',
       1600000000 + i, 1600000000 + i,
       CASE WHEN i % 3 = 0 THEN 1600000000 + i END,
       CASE WHEN i % 3 = 0 THEN 'r' END, CASE WHEN i % 3 = 0 THEN '<p>r</p>' END,
       1600000000 + i, abs(random()) % 5000
FROM n
"""


@pytest.fixture(scope="module")
def db(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Database, asyncio.AbstractEventLoop]]:
    path = Path(tmp_path_factory.mktemp("bench")) / "board.db"
    loop = asyncio.new_event_loop()
    database = Database(path)
    loop.run_until_complete(database.open())
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO topics (slug, label, position) VALUES (?, ?, ?)",
            [(f"t{n}", f"Tema {n}", n) for n in range(1, 7)],
        )
        conn.execute(FILL)
    yield database, loop
    loop.run_until_complete(database.close())
    loop.close()


@pytest.mark.parametrize("sort", list(board.SORTS))
@pytest.mark.parametrize("page", [1, 400])
def test_list_page(
    benchmark: Any, db: tuple[Database, asyncio.AbstractEventLoop], sort: str, page: int
) -> None:
    database, loop = db
    number = page if sort != "con-risposta" else min(page, 160)

    def run() -> board.Page[board.Question]:
        return loop.run_until_complete(
            board.list_questions(database.reader, sort=sort, page=number)
        )

    result = benchmark(run)
    assert len(result.items) == 20
