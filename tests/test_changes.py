"""What writes record and what the page cache's change log reads back: the write sequence,
the names of what changed, the safe default (everything) and the reader's generations."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from greenweb import changes
from greenweb.changes import BULLETIN, COUNTS, EVERYTHING, LOG, QUESTIONS, ChangeLog
from greenweb.db import Database, content_version, with_database

Write = Callable[[Database], Awaitable[None]]


def write(path: Path, *names: str) -> int:
    """One transaction recording ``names``; returns the sequence it got."""

    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            return await changes.record(conn, *names)

    return with_database(path, work)


def recorded(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT name, version FROM content_changes"))


def sequence(path: Path) -> int:
    return with_database(path, lambda db: content_version(db.reader))


def test_record_moves_the_sequence_and_dates_each_name_with_it(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    before = sequence(path)
    got = write(path, BULLETIN, changes.question(7), BULLETIN)
    assert got == before + 1 == sequence(path)
    assert recorded(path) == {BULLETIN: got, "question:7": got}
    again = write(path, BULLETIN)
    assert recorded(path) == {BULLETIN: again, "question:7": got}


def test_a_write_that_names_nothing_changed_everything(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    got = write(path)
    assert recorded(path) == {EVERYTHING: got}


def test_a_hand_made_move_of_the_sequence_counts_as_everything(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    named = write(path, LOG)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE content_version SET version = version + 1")
    assert recorded(path) == {LOG: named, EVERYTHING: named + 1}


def test_the_change_log_knows_what_changed_after_a_sequence(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    write(path, BULLETIN)  # before the reader's first read: never asked about
    log = ChangeLog(path)
    start = log.read()
    assert start is not None
    assert not log.changed_after(None, start)
    voted = write(path, changes.question(3), COUNTS)
    # Not known before the next read: the page cache reads once per request.
    assert not log.changed_after({COUNTS}, start)
    assert log.read() == voted
    assert log.changed_after({COUNTS, QUESTIONS}, start)
    assert log.changed_after({changes.question(3)}, start)
    assert not log.changed_after({BULLETIN}, start)
    assert not log.changed_after({changes.question(4)}, start)
    assert log.changed_after(None, start)  # a page that declared nothing shows everything
    assert not log.changed_after({COUNTS}, voted)
    write(path, EVERYTHING)
    log.read()
    assert log.changed_after({BULLETIN}, voted)
    assert log.changed_after(frozenset(), voted)
    log.close()


def test_every_write_since_the_last_read_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    write(path, LOG)
    log = ChangeLog(path)
    start = log.read()
    assert start is not None
    first = write(path, BULLETIN)
    second = write(path, LOG)
    log.read()
    assert log.sequence == second
    assert log.changed_after({BULLETIN}, start) and not log.changed_after({BULLETIN}, first)
    assert log.changed_after({LOG}, first)
    log.close()


def test_the_change_log_reads_none_from_a_missing_database(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "missing" / "greenweb.db")
    assert log.read() is None
    log.close()


def test_a_sequence_that_goes_back_starts_a_new_generation(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    write(path, BULLETIN)
    log = ChangeLog(path)
    log.read()
    generation = log.generation
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE content_version SET version = 1")  # another file, in effect
    assert log.read() == 1
    assert log.generation == generation + 1
    log.close()


def test_record_runs_inside_the_write_and_rolls_back_with_it(tmp_path: Path) -> None:
    path = tmp_path / "greenweb.db"
    before = sequence(path)

    async def failing(db: Database) -> None:
        try:
            async with db.transaction() as conn:
                await changes.record(conn, BULLETIN)
                raise RuntimeError("the write fails after recording")
        except RuntimeError:
            pass

    with_database(path, failing)
    assert sequence(path) == before
    assert recorded(path) == {}
