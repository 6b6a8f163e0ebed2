"""The SQLite layer: pragmas, numbered migrations, the one write path, split_sql."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TypeVar

import pytest

import greenweb.db
from greenweb import changes
from greenweb.db import (
    BUSY_TIMEOUT_MS,
    Database,
    connect,
    content_version,
    fetch_all,
    fetch_value,
    migrate,
    migration_scripts,
    schema_version,
    split_sql,
)

T = TypeVar("T")


def run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    return [(name, sql or "") for name, sql in rows]


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


async def migrate_file(path: Path) -> list[str]:
    conn = await connect(path)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def fake_migrations(monkeypatch: pytest.MonkeyPatch, scripts: list[tuple[str, str]]) -> None:
    numbered = [(n, name, sql) for n, (name, sql) in enumerate(scripts, start=1)]
    monkeypatch.setattr(greenweb.db, "migration_scripts", lambda: numbered)


# --- migrations --------------------------------------------------------------------------


def test_shipped_migrations_are_numbered_from_one_without_gaps() -> None:
    scripts = migration_scripts()
    assert [n for n, _, _ in scripts] == list(range(1, len(scripts) + 1))
    assert scripts[0][1] == "0001_bulletin.sql"


def test_migrate_applies_every_migration_and_records_it_in_user_version(tmp_path: Path) -> None:
    path = tmp_path / "new" / "greenweb.db"
    applied = run(lambda: migrate_file(path))
    assert applied == [name for _, name, _ in migration_scripts()]
    assert user_version(path) == len(migration_scripts())
    names = {name for name, _ in schema(path)}
    assert {"bulletin_item", "bulletin_tag", "bulletin_search", "content_version"} <= names


def test_running_migrate_twice_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    run(lambda: migrate_file(path))
    before = schema(path)
    assert run(lambda: migrate_file(path)) == []
    assert schema(path) == before
    assert user_version(path) == len(migration_scripts())
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM content_version").fetchone()[0] == 1
    conn.close()


def test_the_change_log_migration_upgrades_a_database_of_the_previous_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "greenweb.db"
    shipped = migration_scripts()
    previous = [script for script in shipped if script[0] < 4]
    monkeypatch.setattr(greenweb.db, "migration_scripts", lambda: previous)
    run(lambda: migrate_file(path))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE content_version SET version = 41")
    monkeypatch.setattr(greenweb.db, "migration_scripts", lambda: shipped)
    assert run(lambda: migrate_file(path))[0] == "0004_content_changes.sql"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM content_version").fetchone() == (41,)
        assert conn.execute("SELECT count(*) FROM content_changes").fetchone() == (0,)
        conn.execute("UPDATE content_version SET version = version + 1")
        assert conn.execute("SELECT name, version FROM content_changes").fetchall() == [
            ("everything", 42)
        ]
    conn.close()


def test_migrations_run_in_number_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_migrations(
        monkeypatch,
        [
            ("0001_a.sql", "CREATE TABLE a (x INTEGER);"),
            ("0002_b.sql", "ALTER TABLE a ADD COLUMN y TEXT;\nINSERT INTO a VALUES (1, 'due');"),
            ("0003_c.sql", "CREATE TABLE c AS SELECT y FROM a;"),
        ],
    )
    path = tmp_path / "greenweb.db"
    assert run(lambda: migrate_file(path)) == ["0001_a.sql", "0002_b.sql", "0003_c.sql"]
    assert user_version(path) == 3
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT y FROM c").fetchall() == [("due",)]
    conn.close()


def test_only_new_migrations_run_on_an_older_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "greenweb.db"
    fake_migrations(monkeypatch, [("0001_a.sql", "CREATE TABLE a (x INTEGER);")])
    run(lambda: migrate_file(path))
    fake_migrations(
        monkeypatch,
        [
            ("0001_a.sql", "CREATE TABLE a (x INTEGER);"),  # would fail if run again
            ("0002_b.sql", "CREATE TABLE b (x INTEGER);"),
        ],
    )
    assert run(lambda: migrate_file(path)) == ["0002_b.sql"]
    assert user_version(path) == 2


def test_a_failing_migration_leaves_the_database_at_the_last_whole_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_migrations(
        monkeypatch,
        [
            ("0001_a.sql", "CREATE TABLE a (x INTEGER);"),
            ("0002_b.sql", "CREATE TABLE b (x INTEGER);\nINSERT INTO missing VALUES (1);"),
        ],
    )
    path = tmp_path / "greenweb.db"
    with pytest.raises(sqlite3.OperationalError, match="missing"):
        run(lambda: migrate_file(path))
    assert user_version(path) == 1
    assert {name for name, _ in schema(path)} == {"a"}


def test_a_gap_in_migration_numbers_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x);")
    (folder / "0003_c.sql").write_text("CREATE TABLE c (x);")
    (folder / "README.txt").write_text("not a migration")
    monkeypatch.setattr(greenweb.db, "resources", SimpleNamespace(files=lambda _: tmp_path))
    with pytest.raises(RuntimeError, match=r"\[1, 3\]"):
        migration_scripts()


# --- connections ---------------------------------------------------------------------------


def test_every_connection_has_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    async def pragmas() -> list[tuple[str, int, int, int]]:
        db = Database(tmp_path / "greenweb.db")
        await db.open()
        try:
            found = []
            async with db.transaction() as writer:
                connections = [writer, db.reader]
                for conn in connections:
                    found.append(
                        (
                            await fetch_value(conn, "PRAGMA journal_mode"),
                            await fetch_value(conn, "PRAGMA foreign_keys"),
                            await fetch_value(conn, "PRAGMA busy_timeout"),
                            await fetch_value(conn, "PRAGMA synchronous"),
                        )
                    )
            return found
        finally:
            await db.close()

    for journal, foreign_keys, busy, synchronous in run(pragmas):
        assert journal == "wal"
        assert foreign_keys == 1
        assert busy == BUSY_TIMEOUT_MS > 0
        assert synchronous == 2  # FULL


def test_deleting_an_item_cascades_to_its_tags(tmp_path: Path) -> None:
    async def scenario() -> int:
        db = Database(tmp_path / "greenweb.db")
        await db.open()
        try:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO bulletin_item (id, slug, title, kind, position, summary, "
                    "body_html, source_file, source_hash, updated_at) VALUES "
                    "(1, 's', 't', 'notizia', 1, '', '', 'f', 'h', '2021-01-01T00:00:00')"
                )
                await conn.execute("INSERT INTO bulletin_tag VALUES (1, 'x')")
            async with db.transaction() as conn:
                await conn.execute("DELETE FROM bulletin_item WHERE id = 1")
            return int(await fetch_value(db.reader, "SELECT count(*) FROM bulletin_tag"))
        finally:
            await db.close()

    assert run(scenario) == 0


def test_reader_before_open_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not open"):
        _ = Database(":memory:").reader


# --- the write path ------------------------------------------------------------------------


async def open_db(path: Path) -> Database:
    db = Database(path)
    await db.open()
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT NOT NULL)")
    return db


def test_a_transaction_commits_when_the_block_ends(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[int, str]]:
        db = await open_db(tmp_path / "greenweb.db")
        try:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES (1, 'uno')")
                await changes.record(conn, changes.EVERYTHING)
            rows = await fetch_all(db.reader, "SELECT x, y FROM t")
            assert await content_version(db.reader) == 2
            return [tuple(row) for row in rows]
        finally:
            await db.close()

    assert run(scenario) == [(1, "uno")]


def test_a_failing_statement_inside_a_transaction_rolls_everything_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = await open_db(tmp_path / "greenweb.db")
        try:
            with pytest.raises(sqlite3.IntegrityError):
                async with db.transaction() as conn:
                    await conn.execute("INSERT INTO t VALUES (1, 'uno')")
                    await changes.record(conn, changes.EVERYTHING)
                    await conn.execute("INSERT INTO t VALUES (2, NULL)")  # NOT NULL
            assert await fetch_value(db.reader, "SELECT count(*) FROM t") == 0
            assert await content_version(db.reader) == 1
            # The write connection is usable again afterwards.
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES (3, 'tre')")
            assert await fetch_value(db.reader, "SELECT count(*) FROM t") == 1
        finally:
            await db.close()

    run(scenario)


def test_a_python_error_inside_a_transaction_rolls_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = await open_db(tmp_path / "greenweb.db")
        try:
            with pytest.raises(ZeroDivisionError):
                async with db.transaction() as conn:
                    await conn.execute("INSERT INTO t VALUES (1, 'uno')")
                    _ = 1 / 0
            assert await fetch_value(db.reader, "SELECT count(*) FROM t") == 0
        finally:
            await db.close()

    run(scenario)


def test_a_commit_that_fails_rolls_back_and_leaves_the_writer_usable(tmp_path: Path) -> None:
    # A deferred foreign key is only checked at COMMIT: the failure happens after the block.
    async def scenario() -> None:
        db = await open_db(tmp_path / "greenweb.db")
        try:
            with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
                async with db.transaction() as conn:
                    await conn.execute("PRAGMA defer_foreign_keys = ON")
                    await conn.execute("INSERT INTO t VALUES (1, 'uno')")
                    await conn.execute("INSERT INTO bulletin_tag VALUES (999, 'orfano')")
            assert await fetch_value(db.reader, "SELECT count(*) FROM t") == 0
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES (2, 'due')")
            assert await fetch_value(db.reader, "SELECT count(*) FROM t") == 1
        finally:
            await db.close()

    run(scenario)


def test_transactions_of_one_process_are_serialised(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        db = await open_db(tmp_path / "greenweb.db")
        try:

            async def write(n: int) -> None:
                async with db.transaction() as conn:
                    value = await fetch_value(conn, "SELECT count(*) FROM t")
                    await asyncio.sleep(0)  # let the others try to interleave
                    await conn.execute("INSERT INTO t VALUES (?, ?)", (value, f"w{n}"))

            await asyncio.gather(*(write(n) for n in range(10)))
            rows = await fetch_all(db.reader, "SELECT x FROM t ORDER BY x")
            return [str(row[0]) for row in rows]
        finally:
            await db.close()

    assert run(scenario) == [str(n) for n in range(10)]


def test_transaction_before_open_is_an_error() -> None:
    async def scenario() -> None:
        async with Database(":memory:").transaction():
            pass

    with pytest.raises(RuntimeError, match="not open"):
        run(scenario)


def test_schema_version_of_a_new_file_is_zero(tmp_path: Path) -> None:
    async def scenario() -> int:
        conn = await connect(tmp_path / "empty.db")
        try:
            return await schema_version(conn)
        finally:
            await conn.close()

    assert run(scenario) == 0


# --- split_sql -----------------------------------------------------------------------------


def test_split_sql_gives_one_statement_each() -> None:
    script = "CREATE TABLE a (x);\nCREATE TABLE b (\n  y TEXT\n);\n"
    assert list(split_sql(script)) == ["CREATE TABLE a (x);", "CREATE TABLE b (\n  y TEXT\n);"]


def test_split_sql_skips_comment_lines_between_statements() -> None:
    script = "-- header\n-- with two lines\nCREATE TABLE a (x);\n\n-- trailing note\n"
    assert list(split_sql(script)) == ["CREATE TABLE a (x);"]


def test_split_sql_keeps_semicolons_inside_strings_and_comments() -> None:
    script = (
        "INSERT INTO t VALUES ('uno; due');\n"
        "INSERT INTO t VALUES ('riga;\nsu due righe');\n"
        "CREATE TABLE u (\n  x TEXT -- a comment; with a semicolon\n);\n"
        'CREATE TABLE "v;w" (x);\n'
    )
    statements = list(split_sql(script))
    assert statements == [
        "INSERT INTO t VALUES ('uno; due');",
        "INSERT INTO t VALUES ('riga;\nsu due righe');",
        "CREATE TABLE u (\n  x TEXT -- a comment; with a semicolon\n);",
        'CREATE TABLE "v;w" (x);',
    ]


def test_split_sql_separates_two_statements_on_one_line() -> None:
    assert list(split_sql("CREATE TABLE a (x); CREATE TABLE b (y);\n")) == [
        "CREATE TABLE a (x);",
        "CREATE TABLE b (y);",
    ]


def test_split_sql_keeps_a_trigger_body_whole() -> None:
    script = (
        "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN\n"
        "  INSERT INTO log VALUES (new.x);\n"
        "  UPDATE content_version SET version = version + 1;\n"
        "END;\n"
        "CREATE TABLE after_trigger (x);\n"
    )
    statements = list(split_sql(script))
    assert len(statements) == 2
    assert statements[0].startswith("CREATE TRIGGER") and statements[0].endswith("END;")


def test_split_sql_ignores_a_trailing_block_comment() -> None:
    assert list(split_sql("CREATE TABLE a (x);\n/* the end */\n")) == ["CREATE TABLE a (x);"]


def test_split_sql_refuses_an_unfinished_statement() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        list(split_sql("CREATE TABLE a (x);\nCREATE TABLE b (y)\n"))


def test_split_statements_execute_one_by_one(tmp_path: Path) -> None:
    script = (
        "-- a migration\nCREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a;b');\n"
        "CREATE TABLE log (x TEXT);\n"
        "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.x); END;\n"
        "INSERT INTO t VALUES ('c');\n"
    )
    conn = sqlite3.connect(tmp_path / "x.db")
    try:
        for statement in split_sql(script):
            conn.execute(statement)
        assert conn.execute("SELECT x FROM t ORDER BY x").fetchall() == [("a;b",), ("c",)]
        assert conn.execute("SELECT x FROM log").fetchall() == [("c",)]
    finally:
        conn.close()


def test_the_newsroom_migration_makes_every_existing_account_a_moderator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "greenweb.db"
    shipped = migration_scripts()
    monkeypatch.setattr(greenweb.db, "migration_scripts", lambda: [s for s in shipped if s[0] < 5])
    run(lambda: migrate_file(path))
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO moderators (name, password_hash, created_at) VALUES ('anna', 'x', 0)"
        )
        conn.execute(
            "INSERT INTO bulletin_item (slug, title, kind, position, summary, body_html, "
            "source_file, source_hash, updated_at) "
            "VALUES ('a', 'A', 'notizia', 1, '', '', 'a.md', 'h', '2021-01-01T00:00:00+00:00')"
        )
    monkeypatch.setattr(greenweb.db, "migration_scripts", lambda: shipped)
    assert "0005_newsroom.sql" in run(lambda: migrate_file(path))
    with sqlite3.connect(path) as conn:
        roles = conn.execute(
            "SELECT m.name, r.role FROM staff_roles r JOIN moderators m ON m.id = r.moderator_id"
        ).fetchall()
        assert roles == [("anna", "moderatore")]
        item = conn.execute(
            "SELECT state, revision, edited_on_site, body_markdown FROM bulletin_item"
        ).fetchone()
        assert item == ("published", 1, 0, None)
