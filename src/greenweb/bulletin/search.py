"""Full-text search of the bulletin (FTS5, accents folded by the table's tokenizer)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiosqlite

from greenweb.bulletin.items import ITEM_COLUMNS, Item, item_from_row
from greenweb.bulletin.queries import PER_PAGE
from greenweb.db import fetch_all, fetch_value
from greenweb.pagination import Page, offset_for

MAX_QUERY_CHARS = 200
_WORD = re.compile(r"\w+", re.UNICODE)
# Control characters that snippet() places around matches; they cannot occur in stored text
# because the text comes from rendered HTML, and the template turns them into <mark>.
MARK_START, MARK_END = "\x02", "\x03"


@dataclass(frozen=True)
class SearchHit:
    item: Item
    snippet: str  # plain text with MARK_START/MARK_END around matched words


def fts_query(text: str) -> str | None:
    """Turn what a person typed into a safe FTS5 query: every word, as a prefix."""
    words = _WORD.findall(text)[:12]
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)


async def search(
    conn: aiosqlite.Connection, text: str, *, page: int = 1, per_page: int = PER_PAGE
) -> Page[SearchHit]:
    query = fts_query(text)
    if query is None:
        return Page(items=[], number=page, per_page=per_page, total=0)
    total = await fetch_value(
        conn, "SELECT count(*) FROM bulletin_search WHERE bulletin_search MATCH ?", (query,)
    )
    rows = await fetch_all(
        conn,
        f"SELECT {ITEM_COLUMNS}, hit.snippet FROM ("
        "  SELECT rowid, snippet(bulletin_search, 1, ?, ?, '…', 24) AS snippet, rank"
        "  FROM bulletin_search WHERE bulletin_search MATCH ? ORDER BY rank LIMIT ? OFFSET ?"
        ") AS hit JOIN bulletin_item ON bulletin_item.id = hit.rowid ORDER BY hit.rank",
        (MARK_START, MARK_END, query, per_page, offset_for(page, per_page)),
    )
    hits = [SearchHit(item=item_from_row(row), snippet=row["snippet"]) for row in rows]
    return Page(items=hits, number=page, per_page=per_page, total=int(total))
