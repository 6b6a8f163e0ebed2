"""greenweb backup / restore: consistent copies while writing, checked restores."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from greenweb.backup import BackupError, backup_database, inspect_database, restore_database
from greenweb.config import Settings
from support.hostile import table_counts
from support.servers import integrity_check, wait_until

MAX_WRITES = 200_000  # the writer's bound, far beyond what a test needs


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def seeded(seeded_settings: Settings) -> Settings:
    """The seed bulletin plus a probe table a writer thread can fill."""
    with closing(sqlite3.connect(seeded_settings.db_path, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    return seeded_settings


class Writer(threading.Thread):
    """Inserts rows 1, 2, 3, ... in their own transactions until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.written = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with closing(sqlite3.connect(self.path, isolation_level=None, timeout=10)) as conn:
                conn.execute("PRAGMA journal_mode = WAL")
                while not self.stop.is_set() and self.written < MAX_WRITES:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(
                        "INSERT INTO probe (id, payload) VALUES (?, ?)",
                        (self.written + 1, "x" * 200),
                    )
                    conn.execute("COMMIT")
                    self.written += 1
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error


@pytest.fixture
def writer(seeded: Settings) -> Iterator[Writer]:
    thread = Writer(seeded.db_path)
    thread.start()
    yield thread
    thread.stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert thread.error is None, thread.error


def run_sql(path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            conn.execute(statement)


def test_backup_while_a_writer_inserts_is_a_consistent_snapshot(
    seeded: Settings, writer: Writer, tmp_path: Path
) -> None:
    wait_until(lambda: writer.written >= 200, 30, "the writer to get going")
    copy = tmp_path / "copia.db"
    info = backup_database(seeded.db_path, copy)
    at_backup = writer.written
    wait_until(lambda: writer.written >= at_backup + 200, 30, "more writes after the backup")

    assert info.path == copy and info.user_version >= 1
    assert integrity_check(copy) == ["ok"]
    ids = [row[0] for row in rows(copy, "SELECT id FROM probe ORDER BY id")]
    # A snapshot: rows 1..n with no gap, taken while writes went on before and after.
    assert len(ids) >= 200
    assert ids == list(range(1, len(ids) + 1))
    assert len(ids) < writer.written
    # One self-contained file: no WAL mode, no side files.
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copia")) == ["copia.db"]
    assert rows(copy, "SELECT count(*) FROM bulletin_item") == [(12,)]


def test_restore_brings_back_exactly_the_backed_up_data(
    seeded: Settings, writer: Writer, tmp_path: Path
) -> None:
    wait_until(lambda: writer.written >= 100, 30, "the writer to get going")
    copy = tmp_path / "copia.db"
    backup_database(seeded.db_path, copy)
    expected = table_counts(copy)
    expected_rows = rows(copy, "SELECT * FROM probe ORDER BY id")
    at_backup = writer.written
    wait_until(lambda: writer.written >= at_backup + 100, 30, "more writes after the backup")
    writer.stop.set()
    writer.join(timeout=30)  # "the server is stopped"
    assert table_counts(seeded.db_path)["probe"] > expected["probe"]

    report = restore_database(copy, seeded.db_path)

    assert report.previous == seeded.db_path.with_name("greenweb.db.bak")
    assert table_counts(seeded.db_path) == expected
    assert rows(seeded.db_path, "SELECT * FROM probe ORDER BY id") == expected_rows
    assert integrity_check(seeded.db_path) == ["ok"]
    # The old database, every write of it, is kept beside it.
    assert table_counts(report.previous)["probe"] == writer.written
    assert not Path(f"{seeded.db_path}-wal").exists()


def test_restore_refuses_while_the_database_is_open(seeded: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "copia.db"
    backup_database(seeded.db_path, copy)
    before = seeded.db_path.read_bytes()
    with closing(sqlite3.connect(seeded.db_path)) as server_connection:
        server_connection.execute("PRAGMA journal_mode = WAL")
        server_connection.execute("SELECT count(*) FROM bulletin_item").fetchone()
        with pytest.raises(BackupError, match="in use.*stop the server"):
            restore_database(copy, seeded.db_path)
    assert seeded.db_path.read_bytes() == before
    assert not seeded.db_path.with_name("greenweb.db.bak").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_restore_over_a_damaged_database_keeps_it_aside(seeded: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "copia.db"
    backup_database(seeded.db_path, copy)
    seeded.db_path.write_bytes(b"rovinato" * 100)
    report = restore_database(copy, seeded.db_path)
    assert report.previous is not None
    assert report.previous.read_bytes() == b"rovinato" * 100
    assert integrity_check(seeded.db_path) == ["ok"]


def test_restore_into_a_new_location(seeded: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "copia.db"
    backup_database(seeded.db_path, copy)
    target = tmp_path / "nuova" / "greenweb.db"
    report = restore_database(copy, target)
    assert report.previous is None
    assert table_counts(target) == table_counts(copy)


def test_backup_never_overwrites_without_force(seeded: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "copia.db"
    copy.write_text("something precious")
    with pytest.raises(BackupError, match="already exists"):
        backup_database(seeded.db_path, copy)
    assert copy.read_text() == "something precious"
    backup_database(seeded.db_path, copy, force=True)
    assert integrity_check(copy) == ["ok"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not a greenweb database"),
        (b"just text, not SQLite", "not a readable SQLite database"),
    ],
)
def test_restore_refuses_what_is_not_a_greenweb_database(
    seeded: Settings, tmp_path: Path, content: bytes, problem: str
) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(content)
    before = table_counts(seeded.db_path)
    with pytest.raises(BackupError, match=problem):
        restore_database(bogus, seeded.db_path)
    assert table_counts(seeded.db_path) == before


def test_restore_refuses_a_foreign_sqlite_database(seeded: Settings, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    run_sql(foreign, "CREATE TABLE other (x)", "PRAGMA user_version = 1")
    with pytest.raises(BackupError, match="not a greenweb database"):
        restore_database(foreign, seeded.db_path)


def test_restore_refuses_a_database_from_a_newer_greenweb(seeded: Settings, tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    backup_database(seeded.db_path, newer)
    run_sql(newer, "PRAGMA user_version = 999")
    with pytest.raises(BackupError, match="schema version 999 is newer"):
        restore_database(newer, seeded.db_path)


def test_restore_refuses_a_corrupt_copy(seeded: Settings, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    backup_database(seeded.db_path, damaged)
    data = bytearray(damaged.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    # Scribble over the second page (a table's b-tree), keeping the header intact.
    data[page_size : page_size + 64] = b"\xff" * 64
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        inspect_database(damaged)
    with pytest.raises(BackupError):
        restore_database(damaged, seeded.db_path)
