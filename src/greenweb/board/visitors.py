"""What visitors do on the board: ask a question, say "anch'io" or take it back, report a
question.

The writes take the connection of an open write transaction and never commit: the view
groups them with the form's nonce and rate-limit record, so a request changes everything
or nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import aiosqlite

from greenweb import changes
from greenweb.board.moderation_log import log_action
from greenweb.board.questions import state_of
from greenweb.board.search_entries import index_question
from greenweb.board.text import Checked, check_text, clean_line, clean_text
from greenweb.board.voters import Voter
from greenweb.db import fetch_all, fetch_value
from greenweb.italian import format_int

REPORT_REASONS = {
    "offensiva": "Offensiva o irrispettosa",
    "spam": "Spam o pubblicità",
    "dati-personali": "Contiene dati personali",
    "fuori-tema": "Fuori tema",
    "altro": "Altro motivo",
}


@dataclass(frozen=True)
class Limits:
    text_min: int = 15
    text_max: int = 1000
    name_max: int = 40


@dataclass(frozen=True)
class QuestionDraft:
    text: str
    display_name: str | None
    topic: str | None


def validate_question(
    text: str | None,
    display_name: str | None,
    topic: str | None,
    *,
    limits: Limits,
    topics: Collection[str],
) -> tuple[Checked, QuestionDraft | None]:
    """Clean and check the three fields of the question form."""
    values = {
        "testo": clean_text(text or ""),
        "nome": clean_line(display_name or ""),
        "tema": (topic or "").strip(),
    }
    errors: dict[str, str] = {}
    problem = check_text(values["testo"], limits.text_min, limits.text_max)
    if problem:
        errors["testo"] = problem
    if len(values["nome"]) > limits.name_max:
        errors["nome"] = (
            f"Il nome può avere al massimo {format_int(limits.name_max)} caratteri "
            f"(ora sono {format_int(len(values['nome']))})."
        )
    if values["tema"] and values["tema"] not in topics:
        errors["tema"] = "Scegli un tema dall'elenco, oppure nessuno."
        values["tema"] = ""
    checked = Checked(values, errors)
    if errors:
        return checked, None
    return checked, QuestionDraft(
        text=values["testo"], display_name=values["nome"] or None, topic=values["tema"] or None
    )


class NotPublic(LookupError):
    """The question is gone from public view (or never was) by the time of the write."""


async def _require_public(conn: aiosqlite.Connection, question_id: int) -> None:
    if await state_of(conn, question_id) != "pubblicata":
        raise NotPublic(question_id)


async def merged_into(conn: aiosqlite.Connection, question_id: int) -> list[int]:
    """The duplicates merged into the question: with it, its merge group."""
    rows = await fetch_all(
        conn, "SELECT id FROM questions WHERE duplicate_of = ? ORDER BY id", (question_id,)
    )
    return [int(row[0]) for row in rows]


async def _vote_rows(conn: aiosqlite.Connection, question_id: int, voter: Voter) -> list[str]:
    """The stored values of this person's votes on the question (none or one, but for old
    rows that a merge could not match: see greenweb.board.voters)."""
    forms = voter.forms(question_id, await merged_into(conn, question_id))
    marks = ", ".join("?" for _ in forms)
    rows = await fetch_all(
        conn,
        f"SELECT voter_hash FROM votes WHERE question_id = ? AND voter_hash IN ({marks})",
        (question_id, *forms),
    )
    return [str(row[0]) for row in rows]


async def has_voted(conn: aiosqlite.Connection, question_id: int, voter: Voter) -> bool:
    return bool(await _vote_rows(conn, question_id, voter))


async def create_question(
    conn: aiosqlite.Connection, draft: QuestionDraft, now: float, *, publish: bool
) -> int:
    """Store a new question; ``publish`` skips pre-moderation. Returns its id."""
    at = int(now)
    cursor = await conn.execute(
        "INSERT INTO questions (text, display_name, topic, state, created_at, published_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            draft.text,
            draft.display_name,
            draft.topic,
            "pubblicata" if publish else "ricevuta",
            at,
            at if publish else None,
            at,
        ),
    )
    question_id = cursor.lastrowid
    assert question_id is not None
    await index_question(conn, question_id)
    # Received and waiting, a question shows only in the log; published, everywhere.
    await log_action(conn, "received", now, question_id=question_id, record=not publish)
    if publish:
        await log_action(
            conn,
            "published",
            now,
            question_id=question_id,
            reason="senza moderazione preventiva",
            changed=changes.question_and_lists(question_id),
        )
    return question_id


async def add_vote(conn: aiosqlite.Connection, question_id: int, voter: Voter, now: float) -> bool:
    """Count one "anch'io"; False when this person already said so for this question.

    Raises NotPublic when the question is not (or no longer) published.
    """
    await _require_public(conn, question_id)
    if await _vote_rows(conn, question_id, voter):
        return False
    await conn.execute(
        "INSERT INTO votes (question_id, voter_hash, created_at) VALUES (?, ?, ?)",
        (question_id, voter.value(question_id), int(now)),
    )
    await _count_moved(conn, question_id, 1)
    return True


async def take_back_vote(
    conn: aiosqlite.Connection, question_id: int, voter: Voter, now: float
) -> bool:
    """Take back this person's "anch'io"; False (nothing changed) when there was none.

    Every row found for the person goes: one, or two old rows that a merge brought
    together, whose person was counted twice until now. Raises NotPublic as add_vote.
    """
    await _require_public(conn, question_id)
    found = await _vote_rows(conn, question_id, voter)
    if not found:
        return False
    marks = ", ".join("?" for _ in found)
    await conn.execute(
        f"DELETE FROM votes WHERE question_id = ? AND voter_hash IN ({marks})",
        (question_id, *found),
    )
    await _count_moved(conn, question_id, -len(found))
    return True


async def _count_moved(conn: aiosqlite.Connection, question_id: int, by: int) -> None:
    await conn.execute("UPDATE questions SET me_too = me_too + ? WHERE id = ?", (by, question_id))
    # Its page and the counts the lists show; nothing else (no bulletin page, not the log).
    await changes.record(conn, changes.question(question_id), changes.COUNTS)


@dataclass(frozen=True)
class ReportOutcome:
    counted: bool  # False when this person had already reported this question
    hidden: bool  # True when this report hid the question


async def add_report(
    conn: aiosqlite.Connection,
    question_id: int,
    reporter_hash: str,
    reason: str,
    now: float,
    *,
    threshold: int,
) -> ReportOutcome:
    """Record a report; the ``threshold``-th open report from different people hides the
    question (state *segnalata*) until a moderator reviews it."""
    if reason not in REPORT_REASONS:
        raise ValueError(f"unknown report reason {reason!r}")
    await _require_public(conn, question_id)
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO reports (question_id, reporter_hash, reason, created_at) "
        "VALUES (?, ?, ?, ?)",
        (question_id, reporter_hash, reason, int(now)),
    )
    if cursor.rowcount != 1:
        return ReportOutcome(counted=False, hidden=False)
    open_reports = await fetch_value(
        conn,
        "SELECT count(*) FROM reports WHERE question_id = ? AND reviewed_at IS NULL",
        (question_id,),
    )
    if int(open_reports) < threshold:
        return ReportOutcome(counted=True, hidden=False)
    cursor = await conn.execute(
        "UPDATE questions SET state = 'segnalata', updated_at = ? "
        "WHERE id = ? AND state = 'pubblicata'",
        (int(now), question_id),
    )
    if cursor.rowcount != 1:
        return ReportOutcome(counted=True, hidden=False)
    await index_question(conn, question_id)
    await log_action(
        conn,
        "reported",
        now,
        question_id=question_id,
        reason=f"{open_reports} segnalazioni da persone diverse",
        changed=changes.question_and_lists(question_id),
    )
    return ReportOutcome(counted=True, hidden=True)
