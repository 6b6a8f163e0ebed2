"""Merging a duplicate question into the published question it repeats, with each person's
"anch'io" counted once on the kept one.

The duplicate leaves public view for good: state *respinta* (the one final state open to a
question never published), ``duplicate_of`` naming the kept question (a trigger of
migration 0007 refuses to publish it again), its address and feed answering 301 to the kept
question's, its asker's private feed telling where it went, and a *merged* step in the
public log with the moderator's public reason.

Its votes move to the kept question. A vote of the re-keyable form is re-keyed to the kept
question (``VoterKeys.rekey``): a person who said "anch'io" on both then has the same value
twice, and the second is dropped, so the kept count is the number of people. A vote of the
old HMAC form moves as it is: it stays findable by its person, whose look-up covers the
old HMAC of every question of the merge group (``board/voters.py``), but cannot be matched
with their vote on the kept question. Duplicates merged into the duplicate earlier follow
it to the kept question, so a merge group is always one question and its direct
duplicates, and no redirect ever leads to another.

The writes take the connection of an open write transaction and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from greenweb import changes
from greenweb.board.moderation import ModerationError
from greenweb.board.moderation_log import log_action
from greenweb.board.questions import STATE_LABELS
from greenweb.board.search_entries import index_question
from greenweb.board.voters import VoterKeys, is_rekeyable
from greenweb.db import fetch_all, fetch_one


@dataclass(frozen=True)
class Merged:
    moved: int  # votes that now count on the kept question
    counted_once: int  # people who had said "anch'io" on both: one vote of theirs dropped


async def _state_and_duplicate(
    conn: aiosqlite.Connection, question_id: int
) -> tuple[str, int | None] | None:
    row = await fetch_one(
        conn, "SELECT state, duplicate_of FROM questions WHERE id = ?", (question_id,)
    )
    return None if row is None else (str(row["state"]), row["duplicate_of"])


async def _check(conn: aiosqlite.Connection, duplicate_id: int, kept_id: int) -> None:
    """Raise LookupError (no such duplicate) or ModerationError (Italian) unless the merge
    applies to the two questions as they are now."""
    duplicate = await _state_and_duplicate(conn, duplicate_id)
    if duplicate is None:
        raise LookupError(duplicate_id)
    if duplicate[1] is not None:
        raise ModerationError(f"Questa domanda è già stata unita alla n. {duplicate[1]}.")
    if duplicate_id == kept_id:
        raise ModerationError("Una domanda non può essere il doppione di sé stessa.")
    if duplicate[0] == "respinta":
        raise ModerationError("Le domande respinte non si uniscono ad altre.")
    kept = await _state_and_duplicate(conn, kept_id)
    if kept is None:
        raise ModerationError(f"La domanda n. {kept_id} non esiste.")
    if kept[1] is not None:
        raise ModerationError(
            f"La domanda n. {kept_id} è a sua volta un doppione della n. {kept[1]}: "
            f"unisci questa alla n. {kept[1]}."
        )
    if kept[0] != "pubblicata":
        raise ModerationError(
            "Si può unire solo a una domanda pubblicata; "
            f"la n. {kept_id} è {STATE_LABELS[kept[0]].lower()}."
        )


async def merge(
    conn: aiosqlite.Connection,
    duplicate_id: int,
    kept_id: int,
    reason: str,
    now: float,
    *,
    keys: VoterKeys,
    moderator: str,
) -> Merged:
    """Merge ``duplicate_id`` into the published ``kept_id``, or raise ModerationError."""
    await _check(conn, duplicate_id, kept_id)
    rows = await fetch_all(
        conn, "SELECT voter_hash, created_at FROM votes WHERE question_id = ?", (duplicate_id,)
    )
    moved = [
        (
            kept_id,
            keys.rekey(value, duplicate_id, kept_id) if is_rekeyable(value) else value,
            created_at,
        )
        for value, created_at in ((str(r["voter_hash"]), int(r["created_at"])) for r in rows)
    ]
    before = await _vote_count(conn, kept_id)
    # The same person's vote on both questions now has one value: OR IGNORE keeps one.
    await conn.executemany(
        "INSERT OR IGNORE INTO votes (question_id, voter_hash, created_at) VALUES (?, ?, ?)",
        moved,
    )
    await conn.execute("DELETE FROM votes WHERE question_id = ?", (duplicate_id,))
    after = await _vote_count(conn, kept_id)
    at = int(now)
    followers = await fetch_all(
        conn, "SELECT id FROM questions WHERE duplicate_of = ?", (duplicate_id,)
    )
    await conn.execute(
        "UPDATE questions SET duplicate_of = ?, updated_at = ? WHERE duplicate_of = ?",
        (kept_id, at, duplicate_id),
    )
    await conn.execute(
        "UPDATE questions SET state = 'respinta', duplicate_of = ?, me_too = 0, updated_at = ? "
        "WHERE id = ?",
        (kept_id, at, duplicate_id),
    )
    await index_question(conn, duplicate_id)  # out of the search with its publication
    await conn.execute(
        "UPDATE questions SET me_too = ?, updated_at = ? WHERE id = ?", (after, at, kept_id)
    )
    await conn.execute(
        "UPDATE reports SET reviewed_at = ? WHERE question_id = ? AND reviewed_at IS NULL",
        (at, duplicate_id),
    )
    await log_action(
        conn,
        "merged",
        now,
        question_id=duplicate_id,
        reason=reason,
        moderator=moderator,
        kept_question_id=kept_id,
        changed=(
            *changes.question_and_lists(duplicate_id),
            changes.question(kept_id),
            changes.COUNTS,
            # Their addresses now lead straight to the kept question.
            *(changes.question(int(row["id"])) for row in followers),
        ),
    )
    return Merged(moved=after - before, counted_once=len(moved) - (after - before))


async def _vote_count(conn: aiosqlite.Connection, question_id: int) -> int:
    row = await fetch_one(conn, "SELECT count(*) FROM votes WHERE question_id = ?", (question_id,))
    return 0 if row is None else int(row[0])
