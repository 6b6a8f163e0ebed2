"""Migration 0007 on a database that already holds a board: the log keeps every row and
its index, no vote, report or link is lost, and the new action and column work."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from greenweb.db import connect, migrate, migration_scripts, split_sql


def board_at_version_6(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for number, _, sql in migration_scripts():
            if number > 6:
                break
            for statement in split_sql(sql):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 6")
        conn.execute("INSERT INTO topics (slug, label, position) VALUES ('clima', 'Clima', 1)")
        conn.execute(
            "INSERT INTO questions (id, text, topic, state, created_at, published_at, "
            "updated_at, me_too) VALUES (1, 'Il clima cambia?', 'clima', 'pubblicata', 1, 2, 2, 1)"
        )
        conn.execute("INSERT INTO votes VALUES (1, 'an-old-hmac-of-32-hex-characters', 2)")
        conn.execute("INSERT INTO reports VALUES (1, 'someone', 'spam', 3, NULL)")
        conn.executemany(
            "INSERT INTO moderation_log (at, action, question_id, reason, moderator) "
            "VALUES (?, ?, 1, ?, 'anna')",
            [(1, "received", None), (2, "published", "ok")],
        )


async def upgrade(path: Path) -> list[str]:
    conn = await connect(path)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def test_the_log_is_rebuilt_with_every_row_and_nothing_else_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    board_at_version_6(path)
    assert "0007_board_following.sql" in asyncio.run(upgrade(path))
    with sqlite3.connect(path) as conn:
        assert conn.execute(
            "SELECT id, at, action, question_id, reason, moderator, kept_question_id "
            "FROM moderation_log ORDER BY id"
        ).fetchall() == [
            (1, 1, "received", 1, None, "anna", None),
            (2, 2, "published", 1, "ok", "anna", None),
        ]
        assert conn.execute("SELECT count(*) FROM votes").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM reports").fetchone() == (1,)
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(moderation_log)")}
        assert "moderation_log_question" in indexes
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.execute(
            "INSERT INTO moderation_log (at, action, question_id, kept_question_id) "
            "VALUES (3, 'merged', 1, 1)"
        )
        assert conn.execute("SELECT duplicate_of FROM questions").fetchone() == (None,)
