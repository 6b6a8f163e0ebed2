"""Page 1 against the last page of the question lists, domain query only (no web layer).

BUDGET.md: "page N of a long list vs page 1 <= 2 x the time". The list query is a
covering-index walk, so skipping thousands of rows reads index entries only. The data are
the shared board generator's (``board_data.py``): 10,000 questions with the large data
set, 400 with ``GREENWEB_BENCH_DATA=small`` (the quick pass of ``make test``). The whole
pages, web layer included, are timed by ``test_render.py`` and ``serving/test_serving.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from greenweb.board import questions
from greenweb.db import Database
from greenweb.pagination import Page
from render_bench import rounds

# Median seconds of page 1 per sort, for the last page's ratio.
FIRST_PAGE: dict[str, float] = {}


@pytest.mark.parametrize("sort", list(questions.SORTS))
@pytest.mark.parametrize("where", ["first", "last"])
def test_list_page(
    benchmark: Any, board_db: tuple[Database, asyncio.AbstractEventLoop], sort: str, where: str
) -> None:
    database, loop = board_db

    def run(number: int) -> Page[questions.Question]:
        return loop.run_until_complete(
            questions.list_questions(database.reader, sort=sort, page=number)
        )

    last = run(1).pages
    assert last > 1, f"{sort}: a single page, nothing to compare"
    number = 1 if where == "first" else last
    result = benchmark.pedantic(run, args=(number,), rounds=rounds() * 10, warmup_rounds=1)
    assert result.items and result.number == number
    benchmark.extra_info.update(sort=sort, page=number, pages=last)
    if benchmark.stats is None:  # --benchmark-disable
        return
    median = benchmark.stats.stats.median
    if where == "first":
        FIRST_PAGE[sort] = median
    elif sort in FIRST_PAGE:
        benchmark.extra_info["page_n_vs_page_1"] = round(median / FIRST_PAGE[sort], 2)
