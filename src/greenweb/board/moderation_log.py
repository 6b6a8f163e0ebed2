"""The public moderation log (/moderazione/registro): every step of every question and
every change to the resources, with the moderator's name and reason.

The log is public, so an entry changes a page visitors see: ``log_action`` writes the
entry and records the change (:mod:`greenweb.changes`), with whatever else the step changed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from greenweb import changes
from greenweb.board.questions import PER_PAGE
from greenweb.db import fetch_all, fetch_value
from greenweb.pagination import Page, offset_for

LOG_LABELS = {
    "received": "ricevuta",
    "published": "pubblicata",
    "rejected": "respinta",
    "reported": "nascosta in attesa di revisione dopo le segnalazioni",
    "restored": "ripubblicata dopo la revisione",
    "unpublished": "ritirata",
    "edited": "testo corretto dalla moderazione",
    "answered": "risposta pubblicata",
    "piece": "diventata pillola teatrale",
    "resource_added": "risorsa aggiunta",
    "resource_edited": "risorsa modificata",
    "merged": "unita come doppione a un'altra domanda",
}


@dataclass(frozen=True)
class LogEntry:
    id: int
    at: datetime
    action: str
    question_id: int | None
    resource_id: int | None
    reason: str | None
    moderator: str | None
    question_public: bool
    resource_title: str | None
    kept_question_id: int | None = None  # 'merged': the question it went into

    @property
    def label(self) -> str:
        return LOG_LABELS[self.action]


async def log_action(
    conn: aiosqlite.Connection,
    action: str,
    now: float,
    *,
    question_id: int | None = None,
    resource_id: int | None = None,
    reason: str | None = None,
    moderator: str | None = None,
    changed: Collection[str] = (),
    record: bool = True,
    kept_question_id: int | None = None,
) -> None:
    """Log a step of a write, and record that it changed the log (a public page too) and
    ``changed``: the names (:mod:`greenweb.changes`) of what else the step changed.

    ``record=False`` for an entry that the same write follows with another one, which
    records the change for both.
    """
    await conn.execute(
        "INSERT INTO moderation_log "
        "(at, action, question_id, resource_id, reason, moderator, kept_question_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (int(now), action, question_id, resource_id, reason or None, moderator, kept_question_id),
    )
    if record:
        await changes.record(conn, changes.LOG, *changed)


async def log_entries(
    conn: aiosqlite.Connection,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    question_id: int | None = None,
) -> Page[LogEntry]:
    """The log, newest first; or one question's history."""
    where, params = ("l.question_id = :qid", {"qid": question_id}) if question_id else ("1", {})
    total = await fetch_value(conn, f"SELECT count(*) FROM moderation_log l WHERE {where}", params)
    rows = await fetch_all(
        conn,
        "SELECT l.id, l.at, l.action, l.question_id, l.resource_id, l.reason, l.moderator, "
        "l.kept_question_id, coalesce(q.state = 'pubblicata', 0) AS question_public, "
        "r.title AS resource_title "
        # The page's ids first, from the log alone: OFFSET then skips bare rowids instead
        # of joined rows (page 1,103 of 22,000 entries: 7.2 ms -> see benchmarks/README.md).
        f"FROM (SELECT id FROM moderation_log l WHERE {where} ORDER BY l.id DESC "
        "LIMIT :limit OFFSET :offset) AS p JOIN moderation_log l ON l.id = p.id "
        "LEFT JOIN questions q ON q.id = l.question_id "
        "LEFT JOIN resources r ON r.id = l.resource_id ORDER BY l.id DESC",
        {**params, "limit": per_page, "offset": offset_for(page, per_page)},
    )
    entries = [
        LogEntry(
            id=row["id"],
            at=datetime.fromtimestamp(row["at"], UTC),
            action=row["action"],
            question_id=row["question_id"],
            resource_id=row["resource_id"],
            reason=row["reason"],
            moderator=row["moderator"],
            question_public=bool(row["question_public"]),
            resource_title=row["resource_title"],
            kept_question_id=row["kept_question_id"],
        )
        for row in rows
    ]
    return Page(items=entries, number=page, per_page=per_page, total=int(total))


async def question_history(conn: aiosqlite.Connection, question_id: int) -> list[LogEntry]:
    """Every step of one question, oldest first: its feeds' entries."""
    rows = await fetch_all(
        conn,
        "SELECT id, at, action, question_id, reason, moderator, kept_question_id "
        "FROM moderation_log WHERE question_id = ? ORDER BY id",
        (question_id,),
    )
    return [
        LogEntry(
            id=row["id"],
            at=datetime.fromtimestamp(row["at"], UTC),
            action=row["action"],
            question_id=row["question_id"],
            resource_id=None,
            reason=row["reason"],
            moderator=row["moderator"],
            question_public=False,  # not asked: the feeds know the question
            resource_title=None,
            kept_question_id=row["kept_question_id"],
        )
        for row in rows
    ]
