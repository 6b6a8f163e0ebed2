"""Page 1 against the last page of the search's question hits, domain query only.

BUDGET.md: "page N of a long list vs page 1 <= 2 x the time", here for /cerca?in=domande.
FTS5 orders the hits by rank itself and OFFSET skips rows before their snippets are made
(tests/test_search.py asserts the plans), so a later page costs what the first does: both
rank every hit. The data are the shared board generator's (``board_data.py``): 10,000
questions with the large data set, 400 with ``GREENWEB_BENCH_DATA=small``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from greenweb import search
from greenweb.db import Database
from greenweb.pagination import Page
from render_bench import rounds

# "ispra": in every generated answer; "clima": in a sixth of the questions and many answers.
QUERIES = ("ispra", "clima")
FIRST_PAGE: dict[str, float] = {}


@pytest.mark.parametrize("words", QUERIES)
@pytest.mark.parametrize("where", ["first", "last"])
def test_search_page(
    benchmark: Any, board_db: tuple[Database, asyncio.AbstractEventLoop], words: str, where: str
) -> None:
    database, loop = board_db

    def run(number: int) -> Page[search.Hit]:
        return loop.run_until_complete(
            search.search(database.reader, words, search.QUESTIONS, page=number)
        )

    last = run(1).pages
    assert last > 1, f"{words}: a single page, nothing to compare"
    number = 1 if where == "first" else last
    result = benchmark.pedantic(run, args=(number,), rounds=rounds() * 5, warmup_rounds=1)
    assert result.items and result.number == number
    benchmark.extra_info.update(words=words, page=number, pages=last, hits=result.total)
    if benchmark.stats is None:  # --benchmark-disable
        return
    median = benchmark.stats.stats.median
    if where == "first":
        FIRST_PAGE[words] = median
    elif words in FIRST_PAGE:
        benchmark.extra_info["page_n_vs_page_1"] = round(median / FIRST_PAGE[words], 2)
