"""Merging duplicates (greenweb.board.duplicates): the voters merge with each person counted
once, old HMAC rows move and stay findable, the duplicate is never public again, and every
merge that does not apply is refused with an Italian message and changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
import pytest

from greenweb.board import duplicates, visitors
from greenweb.board.moderation import ModerationError, restore
from greenweb.board.voters import VoterKeys
from greenweb.config import Settings
from greenweb.db import Database, content_version, with_database
from greenweb.security import client_hash
from support.board import T0, count_and_rows, publish_directly, query, row_counts

Write = Callable[[aiosqlite.Connection], Awaitable[Any]]


def run(settings: Settings, write: Write) -> Any:
    async def work(db: Database) -> Any:
        async with db.transaction() as conn:
            return await write(conn)

    return with_database(settings.db_path, work)


@pytest.fixture
def keys(settings: Settings) -> VoterKeys:
    with_database(settings.db_path, lambda db: content_version(db.reader))  # migrated
    return VoterKeys(settings.secret_bytes)


def vote(settings: Settings, keys: VoterKeys, question_id: int, address: str) -> None:
    person = keys.voter(address)
    assert run(settings, lambda c: visitors.add_vote(c, question_id, person, T0)) is True


def merge(settings: Settings, keys: VoterKeys, duplicate: int, kept: int) -> Any:
    return run(
        settings,
        lambda c: duplicates.merge(
            c, duplicate, kept, "Stessa domanda", T0, keys=keys, moderator="anna"
        ),
    )


def test_a_person_who_voted_on_both_questions_is_counted_once(
    settings: Settings, keys: VoterKeys
) -> None:
    kept, duplicate = publish_directly(settings, 2)
    for address in ("192.0.2.1", "192.0.2.2"):
        vote(settings, keys, kept, address)
    for address in ("192.0.2.2", "192.0.2.3"):
        vote(settings, keys, duplicate, address)
    merged = merge(settings, keys, duplicate, kept)
    assert merged == duplicates.Merged(moved=1, counted_once=1)
    assert count_and_rows(settings, kept) == (3, 3)
    assert count_and_rows(settings, duplicate) == (0, 0)
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        person = keys.voter(address)
        assert run(settings, lambda c, p=person: visitors.has_voted(c, kept, p)) is True
        assert run(settings, lambda c, p=person: visitors.add_vote(c, kept, p, T0)) is False


def test_the_duplicate_leaves_public_view_for_good(settings: Settings, keys: VoterKeys) -> None:
    kept, duplicate = publish_directly(settings, 2)
    merge(settings, keys, duplicate, kept)
    assert query(settings, "SELECT state, duplicate_of FROM questions WHERE id = ?", (duplicate,))[
        0
    ] == ("respinta", kept)
    with pytest.raises(ModerationError):
        run(settings, lambda c: restore(c, duplicate, T0, moderator="anna"))
    with sqlite3.connect(settings.db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE questions SET state = 'pubblicata' WHERE id = ?", (duplicate,))


def test_the_public_log_records_the_merge_with_the_kept_question(
    settings: Settings, keys: VoterKeys
) -> None:
    kept, duplicate = publish_directly(settings, 2)
    merge(settings, keys, duplicate, kept)
    assert query(
        settings,
        "SELECT action, question_id, kept_question_id, reason FROM moderation_log",
    ) == [("merged", duplicate, kept, "Stessa domanda")]


def old_form_vote(settings: Settings, question_id: int, address: str) -> None:
    with sqlite3.connect(settings.db_path) as conn:
        hashed = client_hash(settings.secret_bytes, address, f"vote:{question_id}")
        conn.execute(
            "INSERT INTO votes (question_id, voter_hash, created_at) VALUES (?, ?, 1)",
            (question_id, hashed),
        )
        conn.execute("UPDATE questions SET me_too = me_too + 1 WHERE id = ?", (question_id,))


def test_an_old_form_vote_moves_and_its_person_is_still_found_on_the_kept_question(
    settings: Settings, keys: VoterKeys
) -> None:
    kept, duplicate = publish_directly(settings, 2)
    old_form_vote(settings, duplicate, "192.0.2.9")
    merge(settings, keys, duplicate, kept)
    assert count_and_rows(settings, kept) == (1, 1)
    person = keys.voter("192.0.2.9")
    assert run(settings, lambda c: visitors.has_voted(c, kept, person)) is True
    assert run(settings, lambda c: visitors.add_vote(c, kept, person, T0)) is False
    assert run(settings, lambda c: visitors.take_back_vote(c, kept, person, T0)) is True
    assert count_and_rows(settings, kept) == (0, 0)


def test_old_form_votes_on_both_questions_are_both_taken_back_at_once(
    settings: Settings, keys: VoterKeys
) -> None:
    """The limit of old rows: they cannot meet at the merge, so the person counts twice
    until they act on the kept question, which finds both rows."""
    kept, duplicate = publish_directly(settings, 2)
    old_form_vote(settings, kept, "192.0.2.9")
    old_form_vote(settings, duplicate, "192.0.2.9")
    merge(settings, keys, duplicate, kept)
    assert count_and_rows(settings, kept) == (2, 2)
    person = keys.voter("192.0.2.9")
    assert run(settings, lambda c: visitors.take_back_vote(c, kept, person, T0)) is True
    assert count_and_rows(settings, kept) == (0, 0)


def test_a_merged_questions_own_duplicates_follow_it_to_the_kept_question(
    settings: Settings, keys: VoterKeys
) -> None:
    final, middle, first = publish_directly(settings, 3)
    old_form_vote(settings, first, "192.0.2.5")
    merge(settings, keys, first, middle)
    merge(settings, keys, middle, final)
    assert query(settings, "SELECT id FROM questions WHERE duplicate_of = ? ORDER BY id", (final,))
    assert sorted(
        r[0] for r in query(settings, "SELECT id FROM questions WHERE duplicate_of = ?", (final,))
    ) == sorted([middle, first])
    person = keys.voter("192.0.2.5")
    assert run(settings, lambda c: visitors.has_voted(c, final, person)) is True
    assert count_and_rows(settings, final) == (1, 1)


def test_a_pending_question_can_be_merged_into_a_published_one(
    settings: Settings, keys: VoterKeys
) -> None:
    (kept,) = publish_directly(settings)
    (pending,) = publish_directly(settings, state="ricevuta", published_at=None)
    merge(settings, keys, pending, kept)
    assert query(
        settings, "SELECT state, duplicate_of FROM questions WHERE id = ?", (pending,)
    ) == [("respinta", kept)]


def refusals(settings: Settings) -> list[tuple[str, int, int, str]]:
    kept, other = publish_directly(settings, 2)
    (pending,) = publish_directly(settings, state="ricevuta", published_at=None)
    (hidden,) = publish_directly(settings, state="nascosta")
    (rejected,) = publish_directly(settings, state="respinta", published_at=None)
    (merged,) = publish_directly(settings, state="respinta", duplicate_of=kept)
    return [
        ("itself", other, other, "sé stessa"),
        ("into a pending question", other, pending, "è ricevuta"),
        ("into a hidden question", other, hidden, "è nascosta"),
        ("into a missing question", other, 999_999, "non esiste"),
        ("into a duplicate (a chain)", other, merged, "a sua volta un doppione"),
        ("already merged", merged, other, "già stata unita"),
        ("a rejected question", rejected, kept, "respinte"),
    ]


def test_merges_that_do_not_apply_are_refused_and_change_nothing(
    settings: Settings, keys: VoterKeys
) -> None:
    cases = refusals(settings)
    for duplicate in {case[1] for case in cases}:
        vote_address = f"192.0.2.{duplicate % 200}"
        if query(settings, "SELECT state FROM questions WHERE id = ?", (duplicate,))[0][0] == (
            "pubblicata"
        ):
            vote(settings, keys, duplicate, vote_address)
    before = row_counts(settings)
    for name, duplicate, kept, message in cases:
        with pytest.raises(ModerationError, match=message):
            merge(settings, keys, duplicate, kept)
        assert row_counts(settings) == before, name


def test_merging_a_missing_question_is_a_lookup_error(settings: Settings, keys: VoterKeys) -> None:
    (kept,) = publish_directly(settings)
    with pytest.raises(LookupError):
        merge(settings, keys, 999_999, kept)


def test_rows_in_no_known_form_move_as_they_are(settings: Settings, keys: VoterKeys) -> None:
    kept, duplicate = publish_directly(settings, 2)
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute(
            "INSERT INTO votes (question_id, voter_hash, created_at) VALUES (?, 'seed-1-0', 1)",
            (duplicate,),
        )
        conn.execute("UPDATE questions SET me_too = 1 WHERE id = ?", (duplicate,))
    merge(settings, keys, duplicate, kept)
    assert query(settings, "SELECT question_id, voter_hash FROM votes") == [(kept, "seed-1-0")]
    assert count_and_rows(settings, kept) == (1, 1)
