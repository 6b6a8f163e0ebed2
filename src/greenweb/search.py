"""The site's one search (FTS5, accents folded by the tables' tokenizer): the bulletin's
items, the published questions with their answers, and the resources.

Each kind has its own index (``bulletin_search``, ``question_search``, ``resource_search``;
the writes keep them: bulletin/importer.py, bulletin/newsroom.py, board/search_entries.py)
and is searched on its own, so that every kind is ranked, counted and paginated apart.
What a person types only ever becomes quoted words (:func:`fts_query`): FTS5's syntax is
never theirs to use.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import aiosqlite

from greenweb.board.questions import SUMMARY_COLUMNS, Question, question_from_row
from greenweb.board.resources import COLUMNS as RESOURCE_COLUMNS
from greenweb.board.resources import resource_from_row
from greenweb.bulletin.items import ITEM_COLUMNS, item_from_row
from greenweb.db import fetch_all, fetch_value
from greenweb.pagination import Page, offset_for

MAX_QUERY_CHARS = 200
PER_PAGE = 20
MAX_WORDS = 12  # of a visitor's search: every one must match
MAX_ANY_WORDS = 24  # of a draft question: any may match
MIN_WORD_CHARS = 3  # shorter words of a draft say little about what it asks
_WORD = re.compile(r"\w+", re.UNICODE)
# Control characters that snippet() places around matches; they cannot occur in stored text
# (every form and file removes control characters), and the template turns them into <mark>.
MARK_START, MARK_END = "\x02", "\x03"

# Italian words too common to say what a question is about (and a few of English's, which
# people mix in). Compared in lower case, with their accents.
STOP_WORDS: Final = frozenset(
    """
    abbia abbiamo allora alla alle agli anche ancora anch avere aveva avete buona buongiorno
    buonasera ciao che chi come con contro cosa cose cui dal dalla dalle dagli degli della
    delle dello dei del dove dunque ecco essere era erano gli grazie hanno ho hai il invece
    io lei loro lui mai meglio mentre mia mie miei mio molto molti molte nei nel nella nelle
    negli noi non nostro nostra oggi ogni oppure per perché perche però pero più piu poco poi
    possiamo posso potrebbe può puo proprio quale quali quando quanto quanta quanti quante
    quella quelle quelli quello questa queste questi questo qui sarà sarebbe sempre senza
    sia siamo sono sta stai stato stata stati stanno sua sue suo suoi sul sulla sulle sugli
    tanto tra tutti tutto tutte tutta una uno vero voi vorrei già così fare fatto fa
    the and for are what how why with this that
    """.split()
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def fts_query(text: str, *, any_word: bool = False) -> str | None:
    """Turn what a person typed into a safe FTS5 query: words only, each quoted as a prefix.

    A search (the default) needs every word, up to MAX_WORDS. With ``any_word`` (the
    similar questions of a draft) any significant word may match, ranked by how many and
    how rare: stop words and words shorter than MIN_WORD_CHARS are left out.
    None when nothing is left to search for.
    """
    if any_word:
        significant = (
            word.lower()
            for word in _words(text)
            if len(word) >= MIN_WORD_CHARS and word.lower() not in STOP_WORDS
        )
        words = list(dict.fromkeys(significant))[:MAX_ANY_WORDS]
    else:
        words = _words(text)[:MAX_WORDS]
    if not words:
        return None
    return (" OR " if any_word else " ").join(f'"{word}"*' for word in words)


@dataclass(frozen=True)
class Hit:
    item: Any  # the bulletin's Item, the board's Question or Resource
    snippet: str  # plain text with MARK_START/MARK_END around matched words


@dataclass(frozen=True)
class Kind:
    """One kind of result: its ``?in=`` value, its heading, and its two queries (named
    parameters :query, and for a page :start, :end, :limit, :offset)."""

    name: str
    label: str
    count_sql: str
    page_sql: str
    record: Callable[[sqlite3.Row], Any]


def _page_sql(table: str, columns: str, join: str, where: str = "") -> str:
    """A page of hits: the inner query lets FTS5 order by rank and skip the earlier pages
    (snippets are made for the page's rows only); the outer one fetches the rows."""
    return (
        f"SELECT {columns}, hit.snippet FROM ("
        f"  SELECT rowid AS hit_id, snippet({table}, -1, :start, :end, '…', 24) AS snippet, rank"
        f"  FROM {table} WHERE {table} MATCH :query ORDER BY rank LIMIT :limit OFFSET :offset"
        f") AS hit {join}{where} ORDER BY hit.rank"
    )


BULLETIN = Kind(
    "bollettino",
    "Bandi e notizie",
    "SELECT count(*) FROM bulletin_search WHERE bulletin_search MATCH :query",
    _page_sql(
        "bulletin_search", ITEM_COLUMNS, "JOIN bulletin_item ON bulletin_item.id = hit.hit_id"
    ),
    item_from_row,
)
# The index holds published questions only (board/search_entries.py); the join reads the
# state again all the same, so that no other state can ever be shown by a search.
QUESTIONS = Kind(
    "domande",
    "Domande",
    # CROSS JOIN keeps the index outside: the planner would walk every published question
    # and look each one up in the index instead.
    "SELECT count(*) FROM question_search CROSS JOIN questions q ON q.id = question_search.rowid "
    "WHERE question_search MATCH :query AND q.state = 'pubblicata'",
    _page_sql(
        "question_search",
        SUMMARY_COLUMNS,
        "JOIN questions q ON q.id = hit.hit_id LEFT JOIN topics t ON t.slug = q.topic",
        " WHERE q.state = 'pubblicata'",
    ),
    question_from_row,
)
RESOURCES = Kind(
    "risorse",
    "Risorse",
    "SELECT count(*) FROM resource_search WHERE resource_search MATCH :query",
    _page_sql("resource_search", RESOURCE_COLUMNS, "JOIN resources r ON r.id = hit.hit_id"),
    resource_from_row,
)
KINDS: Final = {kind.name: kind for kind in (BULLETIN, QUESTIONS, RESOURCES)}


async def search(
    conn: aiosqlite.Connection,
    text: str,
    kind: Kind = BULLETIN,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    any_word: bool = False,
) -> Page[Hit]:
    """One page of the hits of ``kind`` for what a person typed, best first."""
    query = fts_query(text, any_word=any_word)
    if query is None:
        return Page(items=[], number=page, per_page=per_page, total=0)
    total = await fetch_value(conn, kind.count_sql, {"query": query})
    rows = await fetch_all(
        conn,
        kind.page_sql,
        {
            "query": query,
            "start": MARK_START,
            "end": MARK_END,
            "limit": per_page,
            "offset": offset_for(page, per_page),
        },
    )
    hits = [Hit(item=kind.record(row), snippet=row["snippet"]) for row in rows]
    return Page(items=hits, number=page, per_page=per_page, total=int(total))


@dataclass(frozen=True)
class Group:
    kind: Kind
    page: Page[Hit]  # its first hits


async def overview(conn: aiosqlite.Connection, text: str, *, top: int = 3) -> list[Group]:
    """The first ``top`` hits of every kind, in the order of KINDS."""
    return [Group(kind, await search(conn, text, kind, per_page=top)) for kind in KINDS.values()]


async def similar_questions(
    conn: aiosqlite.Connection, draft: str, *, limit: int = 3
) -> list[Question]:
    """The published questions most like a draft: any of its significant words, by rank."""
    found = await search(conn, draft, QUESTIONS, per_page=limit, any_word=True)
    return [hit.item for hit in found.items]
