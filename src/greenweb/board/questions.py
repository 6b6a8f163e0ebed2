"""Questions as visitors and moderators read them: the Question record, the public lists,
one question, the moderators' queue and the sitemap's list.

A question's life: *ricevuta* (sent, waits for a moderator) -> *pubblicata* (visible) ->
answered -> maybe a theatre piece (*pillola teatrale*). Moderators may also reject it
(*respinta*) or withdraw it (*nascosta*); enough reports from different people hide it
(*segnalata*) until a moderator reviews it. The writes are in ``visitors`` and
``moderation``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite

from greenweb.db import fetch_all, fetch_one, fetch_value, record_from_row
from greenweb.italian import ROME
from greenweb.markup import summarise
from greenweb.pagination import Page, offset_for

PER_PAGE = 20
EXCERPT_CHARS = 240

STATES = ("ricevuta", "pubblicata", "segnalata", "nascosta", "respinta")
STATE_LABELS = {
    "ricevuta": "Ricevuta",
    "pubblicata": "Pubblicata",
    "segnalata": "Segnalata, in revisione",
    "nascosta": "Nascosta",
    "respinta": "Respinta",
}
# What visitors see of a published question's progress, in order.
STAGES = (
    ("ricevuta", "Ricevuta"),
    ("pubblicata", "Pubblicata"),
    ("risposta", "Con risposta"),
    ("pillola", "Diventata pillola teatrale"),
)
STAGE_LABELS = dict(STAGES)

SORTS = {
    # query value: (label, ORDER BY of the page query)
    "recenti": ("Più recenti", "published_at DESC, id DESC"),
    "condivise": ("Più condivise", "me_too DESC, published_at DESC, id DESC"),
    "con-risposta": ("Con risposta", "answered_at DESC, id DESC"),
}
DEFAULT_SORT = "recenti"


def to_datetime(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class Question:
    id: int
    text: str
    display_name: str | None
    topic: str | None
    topic_label: str | None
    state: str
    created_at: datetime
    published_at: datetime | None
    answered_at: datetime | None
    piece_at: datetime | None
    updated_at: datetime
    me_too: int
    original_text: str | None = None
    answer_md: str | None = None
    answer_html: str | None = None
    piece_title: str | None = None
    piece_url: str | None = None
    piece_text: str | None = None
    open_reports: int = 0
    duplicate_of: int | None = None  # the question it was merged into (board/duplicates.py)

    @property
    def is_public(self) -> bool:
        return self.state == "pubblicata"

    @property
    def stage(self) -> str:
        if self.piece_at is not None:
            return "pillola"
        if self.answered_at is not None:
            return "risposta"
        if self.published_at is not None:
            return "pubblicata"
        return "ricevuta"

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def shown_at(self) -> datetime:
        """When the question appeared (or arrived, for moderators' lists)."""
        return self.published_at or self.created_at

    @property
    def shown_on(self) -> date:
        return self.shown_at.astimezone(ROME).date()

    @property
    def excerpt(self) -> str:
        return summarise(self.text, EXCERPT_CHARS)

    @property
    def edited(self) -> bool:
        return self.original_text is not None and self.original_text != self.text


SUMMARY_COLUMNS = (
    "q.id, substr(q.text, 1, 400) AS text, q.display_name, q.topic, t.label AS topic_label, "
    "q.state, q.created_at, q.published_at, q.answered_at, q.piece_at, q.updated_at, q.me_too"
)
FULL_COLUMNS = (
    "q.id, q.text, q.display_name, q.topic, t.label AS topic_label, q.state, q.created_at, "
    "q.published_at, q.answered_at, q.piece_at, q.updated_at, q.me_too, q.original_text, "
    "q.answer_md, q.answer_html, q.piece_title, q.piece_url, q.piece_text, q.duplicate_of, "
    "(SELECT count(*) FROM reports r WHERE r.question_id = q.id AND r.reviewed_at IS NULL) "
    "AS open_reports"
)


# Times are stored as Unix seconds.
_STORED_TIMES = dict.fromkeys(
    ("created_at", "published_at", "answered_at", "piece_at", "updated_at"), to_datetime
)


def question_from_row(row: sqlite3.Row) -> Question:
    """The Question of a row selected with SUMMARY_COLUMNS or FULL_COLUMNS."""
    return record_from_row(Question, row, _STORED_TIMES)


def list_query(sort: str, topic: str | None) -> tuple[str, str]:
    """(WHERE, ORDER BY) of a public list; each pair matches one partial index."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    where = "state = 'pubblicata'"
    if sort == "con-risposta":
        where += " AND answered_at IS NOT NULL"
    if topic is not None:
        where += " AND topic = :topic"
    return where, SORTS[sort][1]


def page_sql(where: str, order: str) -> str:
    """One page of a list: the inner query walks a covering index to find the page's 20
    ids (so skipping earlier pages reads only index entries); the outer one fetches rows."""
    outer_order = ", ".join(f"q.{term}" for term in order.split(", "))
    return (
        f"SELECT {SUMMARY_COLUMNS} FROM "
        f"(SELECT id FROM questions WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset)"
        " AS p JOIN questions q ON q.id = p.id LEFT JOIN topics t ON t.slug = q.topic "
        f"ORDER BY {outer_order}"
    )


async def list_questions(
    conn: aiosqlite.Connection,
    *,
    sort: str = DEFAULT_SORT,
    topic: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Question]:
    where, order = list_query(sort, topic)
    params: dict[str, Any] = {"topic": topic}
    total = await fetch_value(conn, f"SELECT count(*) FROM questions WHERE {where}", params)
    rows = await fetch_all(
        conn,
        page_sql(where, order),
        {**params, "limit": per_page, "offset": offset_for(page, per_page)},
    )
    items = [question_from_row(row) for row in rows]
    return Page(items=items, number=page, per_page=per_page, total=int(total))


async def list_pieces(
    conn: aiosqlite.Connection, *, page: int = 1, per_page: int = PER_PAGE
) -> Page[Question]:
    """Published questions that became theatre pieces, newest piece first."""
    where = "state = 'pubblicata' AND piece_at IS NOT NULL"
    total = await fetch_value(conn, f"SELECT count(*) FROM questions WHERE {where}")
    rows = await fetch_all(
        conn,
        f"SELECT {FULL_COLUMNS} FROM "
        f"(SELECT id FROM questions WHERE {where} ORDER BY piece_at DESC, id DESC "
        "LIMIT :limit OFFSET :offset) AS p JOIN questions q ON q.id = p.id "
        "LEFT JOIN topics t ON t.slug = q.topic ORDER BY q.piece_at DESC, q.id DESC",
        {"limit": per_page, "offset": offset_for(page, per_page)},
    )
    items = [question_from_row(row) for row in rows]
    return Page(items=items, number=page, per_page=per_page, total=int(total))


async def latest_published(
    conn: aiosqlite.Connection, *, topic: str | None = None, limit: int
) -> list[Question]:
    """The newest published questions (of a topic), in full: the feeds' entries."""
    where, order = list_query(DEFAULT_SORT, topic)
    return await _latest(conn, where, order, {"topic": topic, "limit": limit})


async def latest_answered(conn: aiosqlite.Connection, *, limit: int) -> list[Question]:
    """The published questions answered last, in full: the answers' feed."""
    where, order = list_query("con-risposta", None)
    return await _latest(conn, where, order, {"limit": limit})


async def _latest(
    conn: aiosqlite.Connection, where: str, order: str, params: dict[str, Any]
) -> list[Question]:
    # The ids from the list's own index first, as a page of the list does.
    outer_order = ", ".join(f"q.{term}" for term in order.split(", "))
    rows = await fetch_all(
        conn,
        f"SELECT {FULL_COLUMNS} FROM "
        f"(SELECT id FROM questions WHERE {where} ORDER BY {order} LIMIT :limit) AS p "
        "JOIN questions q ON q.id = p.id LEFT JOIN topics t ON t.slug = q.topic "
        f"ORDER BY {outer_order}",
        params,
    )
    return [question_from_row(row) for row in rows]


async def get_question(conn: aiosqlite.Connection, question_id: int) -> Question | None:
    """Any question, whatever its state (moderators); visitors use get_public_question."""
    row = await fetch_one(
        conn,
        f"SELECT {FULL_COLUMNS} FROM questions q LEFT JOIN topics t ON t.slug = q.topic "
        "WHERE q.id = ?",
        (question_id,),
    )
    return None if row is None else question_from_row(row)


async def get_public_question(conn: aiosqlite.Connection, question_id: int) -> Question | None:
    question = await get_question(conn, question_id)
    return question if question is not None and question.is_public else None


async def moderation_queue(
    conn: aiosqlite.Connection,
    states: Sequence[str],
    *,
    page: int = 1,
    per_page: int = 50,
) -> Page[Question]:
    """Questions in ``states``, oldest first (what has waited longest comes first)."""
    for state in states:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
    marks = ", ".join("?" for _ in states)
    total = await fetch_value(
        conn, f"SELECT count(*) FROM questions WHERE state IN ({marks})", list(states)
    )
    rows = await fetch_all(
        conn,
        f"SELECT {SUMMARY_COLUMNS}, q.duplicate_of, (SELECT count(*) FROM reports r "
        "WHERE r.question_id = q.id AND r.reviewed_at IS NULL) AS open_reports "
        f"FROM questions q LEFT JOIN topics t ON t.slug = q.topic WHERE q.state IN ({marks}) "
        "ORDER BY q.created_at, q.id LIMIT ? OFFSET ?",
        [*states, per_page, offset_for(page, per_page)],
    )
    items = [question_from_row(row) for row in rows]
    return Page(items=items, number=page, per_page=per_page, total=int(total))


async def state_counts(conn: aiosqlite.Connection) -> dict[str, int]:
    rows = await fetch_all(conn, "SELECT state, count(*) AS n FROM questions GROUP BY state")
    counts = dict.fromkeys(STATES, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


async def published_for_sitemap(conn: aiosqlite.Connection) -> list[tuple[int, datetime]]:
    rows = await fetch_all(
        conn,
        "SELECT id, updated_at FROM questions WHERE state = 'pubblicata' "
        "ORDER BY published_at DESC, id DESC",
    )
    return [(row["id"], datetime.fromtimestamp(row["updated_at"], UTC)) for row in rows]


async def state_of(conn: aiosqlite.Connection, question_id: int) -> str | None:
    """The question's state as stored now; None when there is no such question."""
    state = await fetch_value(conn, "SELECT state FROM questions WHERE id = ?", (question_id,))
    return None if state is None else str(state)
