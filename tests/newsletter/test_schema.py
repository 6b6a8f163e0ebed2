"""The newsletter's tables: what they refuse, so that no code path can store it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from greenweb.db import Database, with_database

SUBSCRIBER = (
    "INSERT INTO newsletter_subscriber (address, choice, state, created_at) "
    "VALUES (?, 'numero', 'pending', '2026-12-01T10:00:00+00:00')"
)


def run(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    async def work(db: Database) -> None:
        async with db.transaction() as conn:
            for sql, params in statements:
                await conn.execute(sql, params)

    with_database(path, work)


def test_an_address_is_stored_once_whatever_its_case(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    run(path, (SUBSCRIBER, ("anna@example.org",)))
    with pytest.raises(sqlite3.IntegrityError):
        run(path, (SUBSCRIBER, ("Anna@Example.ORG",)))


@pytest.mark.parametrize(
    "column_sql",
    [
        "UPDATE newsletter_subscriber SET choice = 'ogni giorno'",
        "UPDATE newsletter_subscriber SET state = 'maybe'",
        "UPDATE newsletter_subscriber SET kinds = '{\"bando\": 1}'",
        "UPDATE newsletter_subscriber SET kinds = 'bandi'",
        "UPDATE newsletter_subscriber SET address = printf('%.255c', 'a')",
    ],
)
def test_a_subscriber_refuses_values_outside_its_choices(tmp_path: Path, column_sql: str) -> None:
    path = tmp_path / "g.db"
    run(path, (SUBSCRIBER, ("anna@example.org",)))
    with pytest.raises(sqlite3.IntegrityError):
        run(path, (column_sql, ()))


def test_the_outbox_holds_one_message_per_address_kind_and_ref(tmp_path: Path) -> None:
    insert = (
        "INSERT INTO newsletter_outbox (address, kind, ref, message, size, next_attempt_at, "
        "created_at) VALUES (?, 'numero', '1', x'00', 1, '2026', '2026')"
    )
    path = tmp_path / "g.db"
    run(path, (insert, ("anna@example.org",)), (insert, ("bruno@example.org",)))
    with pytest.raises(sqlite3.IntegrityError):
        run(path, (insert, ("ANNA@example.org",)))


def test_the_lease_has_at_most_one_row(tmp_path: Path) -> None:
    insert = "INSERT INTO newsletter_sender_lease (id, holder, expires_at) VALUES (?, 'a', 0)"
    path = tmp_path / "g.db"
    run(path, (insert, (1,)))
    with pytest.raises(sqlite3.IntegrityError):
        run(path, (insert, (2,)))
