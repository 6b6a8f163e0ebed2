"""What moderators do to a question: the moves between states, corrections, answers,
theatre pieces, and the tally of its reports.

The moves (``approve``, ``reject``, ``unpublish``, ``restore``) are the rows of one table:
from which states each one may start, where it leads, and whether it reviews the open
reports. Every write logs itself in the public moderation log and records that it changed
the question's page and the board's lists (:mod:`greenweb.changes`). The writes take the
connection of an open write transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import aiosqlite

from greenweb import changes
from greenweb.board.moderation_log import log_action
from greenweb.board.questions import STATE_LABELS, state_of
from greenweb.board.search_entries import index_question
from greenweb.board.text import (
    Checked,
    check_http_url,
    check_length,
    check_text,
    clean_line,
    clean_text,
)
from greenweb.board.visitors import REPORT_REASONS
from greenweb.db import fetch_all, fetch_value
from greenweb.markup import render_markdown

MAX_REASON_CHARS = 300
MAX_ANSWER_CHARS = 6000
MAX_PIECE_TITLE_CHARS = 200
MAX_PIECE_TEXT_CHARS = 4000

# Every state but *respinta*: a rejected question is kept only for the log.
NOT_REJECTED = frozenset({"ricevuta", "pubblicata", "segnalata", "nascosta"})


class ModerationError(Exception):
    """An action that does not apply to the question as it is now (Italian message)."""


# --- what moderators type -------------------------------------------------------------------


def check_reason(raw: str | None, *, required: bool = True) -> tuple[str, str | None]:
    """A moderator's reason (public in the log): one line, at most MAX_REASON_CHARS."""
    reason = clean_line(raw or "")
    missing = "Scrivi il motivo: comparirà nel registro pubblico." if required else None
    return reason, check_length(reason, MAX_REASON_CHARS, what="Il motivo", missing=missing)


def validate_answer(raw: str | None) -> tuple[str, str | None]:
    """The Markdown of an answer, cleaned (tabs keep their Markdown width), and a problem."""
    text = clean_text(raw or "", tab="    ")
    return text, check_text(text, 1, MAX_ANSWER_CHARS, what="La risposta")


@dataclass(frozen=True)
class PieceDraft:
    title: str
    url: str | None
    text: str | None


def validate_piece(
    title: str | None, url: str | None, text: str | None
) -> tuple[Checked, PieceDraft | None]:
    values = {
        "titolo": clean_line(title or ""),
        "indirizzo": clean_line(url or ""),
        "testo": clean_text(text or ""),
    }
    problems = {
        "titolo": check_length(
            values["titolo"],
            MAX_PIECE_TITLE_CHARS,
            what="Il titolo",
            missing="Scrivi il titolo della pillola teatrale.",
        ),
        "indirizzo": check_http_url(values["indirizzo"]) if values["indirizzo"] else None,
        "testo": check_length(values["testo"], MAX_PIECE_TEXT_CHARS, what="Il testo"),
    }
    errors = {name: problem for name, problem in problems.items() if problem}
    if not errors and not values["indirizzo"] and not values["testo"]:
        errors["indirizzo"] = "Indica dove trovare la pillola: un indirizzo, il testo o entrambi."
    checked = Checked(values, errors)
    if errors:
        return checked, None
    return checked, PieceDraft(
        values["titolo"], values["indirizzo"] or None, values["testo"] or None
    )


# --- moves between states -------------------------------------------------------------------


async def _require_state(
    conn: aiosqlite.Connection, question_id: int, allowed: Collection[str], message: str
) -> str:
    """The question's state when it is one of ``allowed``; otherwise ``message``, with
    ``{state}`` in it replaced by the state the question is in."""
    state = await state_of(conn, question_id)
    if state is None:
        raise LookupError(question_id)
    if state not in allowed:
        raise ModerationError(message.format(state=STATE_LABELS[state].lower()))
    return state


@dataclass(frozen=True)
class Move:
    action: str  # in the moderation log
    to_state: str
    from_states: frozenset[str]
    refusal: str  # when the question is in another state: ``{state}`` names it
    publishes: bool = False  # sets published_at, the first time only
    reviews_reports: bool = False  # the open reports count as reviewed


APPROVE = Move(
    "published",
    "pubblicata",
    frozenset({"ricevuta"}),
    "Si possono approvare solo le domande ricevute; questa è {state}.",
    publishes=True,
)
REJECT = Move(
    "rejected",
    "respinta",
    frozenset({"ricevuta", "segnalata", "nascosta"}),
    "Questa domanda è {state}: ritirala prima di respingerla.",
    reviews_reports=True,
)
UNPUBLISH = Move(
    "unpublished",
    "nascosta",
    frozenset({"pubblicata", "segnalata"}),
    "Si possono ritirare solo le domande pubblicate o segnalate; questa è {state}.",
    reviews_reports=True,
)
RESTORE = Move(
    "restored",
    "pubblicata",
    frozenset({"segnalata", "nascosta"}),
    "Si possono ripubblicare solo le domande segnalate o nascoste; questa è {state}.",
    publishes=True,
    reviews_reports=True,
)


async def move(
    conn: aiosqlite.Connection,
    question_id: int,
    step: Move,
    now: float,
    *,
    moderator: str,
    reason: str | None = None,
) -> None:
    """Take the question from its state to ``step.to_state``, or raise ModerationError."""
    await _require_state(conn, question_id, step.from_states, step.refusal)
    published = "published_at = coalesce(published_at, :now), " if step.publishes else ""
    await conn.execute(
        f"UPDATE questions SET state = :state, {published}updated_at = :now WHERE id = :id",
        {"state": step.to_state, "now": int(now), "id": question_id},
    )
    if step.reviews_reports:
        await conn.execute(
            "UPDATE reports SET reviewed_at = ? WHERE question_id = ? AND reviewed_at IS NULL",
            (int(now), question_id),
        )
    await index_question(conn, question_id)
    await log_action(
        conn,
        step.action,
        now,
        question_id=question_id,
        reason=reason,
        moderator=moderator,
        changed=changes.question_and_lists(question_id),
    )


async def approve(
    conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
) -> None:
    await move(conn, question_id, APPROVE, now, moderator=moderator)


async def reject(
    conn: aiosqlite.Connection, question_id: int, reason: str, now: float, *, moderator: str
) -> None:
    await move(conn, question_id, REJECT, now, moderator=moderator, reason=reason)


async def unpublish(
    conn: aiosqlite.Connection, question_id: int, reason: str, now: float, *, moderator: str
) -> None:
    await move(conn, question_id, UNPUBLISH, now, moderator=moderator, reason=reason)


async def restore(
    conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
) -> None:
    """Publish again a reported or withdrawn question; its open reports count as reviewed."""
    await move(conn, question_id, RESTORE, now, moderator=moderator)


# --- corrections, answers and pieces --------------------------------------------------------


async def edit_text(
    conn: aiosqlite.Connection,
    question_id: int,
    text: str,
    now: float,
    *,
    moderator: str,
    reason: str = "",
) -> bool:
    """Correct a question's text; the text as sent is kept in ``original_text``.

    ``text`` must already be validated. Returns False (and logs nothing) when unchanged.
    """
    await _require_state(conn, question_id, NOT_REJECTED, "Le domande respinte non si modificano.")
    cursor = await conn.execute(
        "UPDATE questions SET original_text = coalesce(original_text, text), text = ?, "
        "updated_at = ? WHERE id = ? AND text != ?",
        (text, int(now), question_id, text),
    )
    if cursor.rowcount != 1:
        return False
    await index_question(conn, question_id)
    await log_action(
        conn,
        "edited",
        now,
        question_id=question_id,
        reason=reason,
        moderator=moderator,
        changed=changes.question_and_lists(question_id),
    )
    return True


async def answer(
    conn: aiosqlite.Connection,
    question_id: int,
    markdown: str,
    resource_ids: Sequence[int],
    now: float,
    *,
    moderator: str,
) -> None:
    """Save the answer (Markdown, rendered safely once here) and its linked resources.

    ``answered_at`` keeps the first answer's time, so a corrected answer does not jump to
    the top of the "con risposta" list.
    """
    await _require_state(
        conn, question_id, NOT_REJECTED, "Le domande respinte non ricevono risposta."
    )
    wanted = list(dict.fromkeys(resource_ids))
    known = await fetch_all(
        conn,
        f"SELECT id FROM resources WHERE id IN ({', '.join('?' for _ in wanted)})",
        wanted,
    )
    if len(known) != len(wanted):
        raise ModerationError("Una delle risorse scelte non esiste più: ricarica la pagina.")
    previous = await fetch_value(
        conn, "SELECT answer_md FROM questions WHERE id = ?", (question_id,)
    )
    await conn.execute(
        "UPDATE questions SET answer_md = ?, answer_html = ?, "
        "answered_at = coalesce(answered_at, ?), updated_at = ? WHERE id = ?",
        (markdown, render_markdown(markdown), int(now), int(now), question_id),
    )
    await conn.execute("DELETE FROM question_resources WHERE question_id = ?", (question_id,))
    await conn.executemany(
        "INSERT INTO question_resources (question_id, resource_id, position) VALUES (?, ?, ?)",
        [(question_id, rid, n) for n, rid in enumerate(wanted, start=1)],
    )
    await index_question(conn, question_id)
    await log_action(
        conn,
        "answered",
        now,
        question_id=question_id,
        reason="aggiornata" if previous is not None else None,
        moderator=moderator,
        changed=changes.question_and_lists(question_id),
    )


async def mark_piece(
    conn: aiosqlite.Connection,
    question_id: int,
    piece: PieceDraft,
    now: float,
    *,
    moderator: str,
) -> None:
    await _require_state(
        conn,
        question_id,
        {"pubblicata"},
        "Solo una domanda pubblicata può diventare pillola teatrale; questa è {state}.",
    )
    await conn.execute(
        "UPDATE questions SET piece_title = ?, piece_url = ?, piece_text = ?, "
        "piece_at = coalesce(piece_at, ?), updated_at = ? WHERE id = ?",
        (piece.title, piece.url, piece.text, int(now), int(now), question_id),
    )
    # The piece is not in the entry; called all the same, so that no question write is
    # left out when the entry one day says more.
    await index_question(conn, question_id)
    await log_action(
        conn,
        "piece",
        now,
        question_id=question_id,
        reason=piece.title,
        moderator=moderator,
        changed=changes.question_and_lists(question_id),
    )


# --- reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportCount:
    reason: str
    total: int
    open: int  # not reviewed yet

    @property
    def label(self) -> str:
        return REPORT_REASONS[self.reason]


async def report_summary(conn: aiosqlite.Connection, question_id: int) -> list[ReportCount]:
    """How many reports a question got, per reason (moderators see no reporter)."""
    rows = await fetch_all(
        conn,
        "SELECT reason, count(*) AS total, count(*) FILTER (WHERE reviewed_at IS NULL) AS open "
        "FROM reports WHERE question_id = ? GROUP BY reason ORDER BY total DESC, reason",
        (question_id,),
    )
    return [ReportCount(row["reason"], row["total"], row["open"]) for row in rows]
