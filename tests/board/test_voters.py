"""The values votes are keyed by (greenweb.board.voters) and "anch'io" both ways
(greenweb.board.visitors): unlinkable across questions, re-keyable with the secret, old
HMAC rows still found, a take-back moves the count by one."""

from __future__ import annotations

import sqlite3

import pytest

from greenweb.board import visitors
from greenweb.board.voters import LEGACY_CHARS, VALUE_CHARS, VoterKeys, is_rekeyable
from greenweb.config import Settings
from greenweb.db import Database, content_version, with_database
from support.board import T0, count_and_rows, publish_directly, query

SECRET = b"test-secret-not-for-production"
KEYS = VoterKeys(SECRET)


def test_one_persons_values_differ_from_question_to_question() -> None:
    person = KEYS.voter("192.0.2.1")
    assert person.value(1) != person.value(2)
    assert len(person.value(1)) == VALUE_CHARS
    assert is_rekeyable(person.value(1))
    assert not is_rekeyable(person.legacy(1)) and not is_rekeyable("seed-1-0")


def test_the_same_address_gives_the_same_value_and_another_address_another() -> None:
    assert KEYS.voter("192.0.2.1").value(7) == KEYS.voter("192.0.2.1").value(7)
    assert KEYS.voter("192.0.2.1").value(7) != KEYS.voter("192.0.2.2").value(7)


def test_an_ipv6_client_is_one_person_across_its_64() -> None:
    assert KEYS.voter("2001:db8::1").value(3) == KEYS.voter("2001:db8::2").value(3)


def test_rekeying_a_vote_gives_the_same_persons_value_on_the_other_question() -> None:
    person = KEYS.voter("198.51.100.9")
    assert KEYS.rekey(person.value(5), 5, 8) == person.value(8)
    assert KEYS.rekey(KEYS.rekey(person.value(5), 5, 8), 8, 5) == person.value(5)


def test_without_the_secret_no_rekeying_matches() -> None:
    person = KEYS.voter("198.51.100.9")
    other = VoterKeys(b"another secret entirely")
    assert other.rekey(person.value(5), 5, 8) != person.value(8)


def test_the_old_form_is_the_client_hash_of_before() -> None:
    from greenweb.security import client_hash

    person = KEYS.voter("192.0.2.1")
    assert person.legacy(4) == client_hash(SECRET, "192.0.2.1", "vote:4")
    assert len(person.legacy(4)) == LEGACY_CHARS


def test_a_persons_forms_cover_every_question_of_the_merge_group() -> None:
    person = KEYS.voter("192.0.2.1")
    assert person.forms(4, [9, 11]) == [
        person.value(4),
        person.legacy(4),
        person.legacy(9),
        person.legacy(11),
    ]


# --- "anch'io" both ways, on a database ------------------------------------------------------


def run(settings: Settings, write: object) -> object:
    async def work(db: Database) -> object:
        async with db.transaction() as conn:
            return await write(conn)  # type: ignore[operator]

    return with_database(settings.db_path, work)


@pytest.fixture
def question(settings: Settings) -> int:
    with_database(settings.db_path, lambda db: content_version(db.reader))  # migrated
    return publish_directly(settings)[0]


def test_a_taken_back_vote_moves_the_count_down_by_one(settings: Settings, question: int) -> None:
    keys = VoterKeys(settings.secret_bytes)
    anna, bruno = keys.voter("192.0.2.1"), keys.voter("192.0.2.2")
    for person in (anna, bruno):
        assert run(settings, lambda c, p=person: visitors.add_vote(c, question, p, T0)) is True
    assert count_and_rows(settings, question) == (2, 2)
    assert run(settings, lambda c: visitors.take_back_vote(c, question, anna, T0)) is True
    assert count_and_rows(settings, question) == (1, 1)
    assert run(settings, lambda c: visitors.has_voted(c, question, anna)) is False
    assert run(settings, lambda c: visitors.has_voted(c, question, bruno)) is True


def test_taking_back_a_vote_that_does_not_exist_changes_nothing(
    settings: Settings, question: int
) -> None:
    person = VoterKeys(settings.secret_bytes).voter("192.0.2.1")
    before = query(settings, "SELECT version FROM content_version")
    assert run(settings, lambda c: visitors.take_back_vote(c, question, person, T0)) is False
    assert count_and_rows(settings, question) == (0, 0)
    assert query(settings, "SELECT version FROM content_version") == before


def test_a_vote_can_be_said_again_after_being_taken_back(settings: Settings, question: int) -> None:
    person = VoterKeys(settings.secret_bytes).voter("192.0.2.1")
    run(settings, lambda c: visitors.add_vote(c, question, person, T0))
    run(settings, lambda c: visitors.take_back_vote(c, question, person, T0))
    assert run(settings, lambda c: visitors.add_vote(c, question, person, T0)) is True
    assert count_and_rows(settings, question) == (1, 1)


def old_form_vote(settings: Settings, question_id: int, address: str) -> None:
    """A vote row as greenweb stored it before the re-keyable values: the client HMAC."""
    from greenweb.security import client_hash

    with sqlite3.connect(settings.db_path) as conn:
        conn.execute(
            "INSERT INTO votes (question_id, voter_hash, created_at) VALUES (?, ?, ?)",
            (question_id, client_hash(settings.secret_bytes, address, f"vote:{question_id}"), 1),
        )
        conn.execute("UPDATE questions SET me_too = me_too + 1 WHERE id = ?", (question_id,))


def test_a_vote_of_the_old_form_still_counts_its_person_once(
    settings: Settings, question: int
) -> None:
    old_form_vote(settings, question, "192.0.2.1")
    person = VoterKeys(settings.secret_bytes).voter("192.0.2.1")
    assert run(settings, lambda c: visitors.has_voted(c, question, person)) is True
    assert run(settings, lambda c: visitors.add_vote(c, question, person, T0)) is False
    assert count_and_rows(settings, question) == (1, 1)


def test_a_vote_of_the_old_form_can_be_taken_back(settings: Settings, question: int) -> None:
    old_form_vote(settings, question, "192.0.2.1")
    person = VoterKeys(settings.secret_bytes).voter("192.0.2.1")
    assert run(settings, lambda c: visitors.take_back_vote(c, question, person, T0)) is True
    assert count_and_rows(settings, question) == (0, 0)


def test_no_vote_is_taken_back_on_a_question_that_is_not_public(
    settings: Settings, question: int
) -> None:
    (pending,) = publish_directly(settings, state="ricevuta", published_at=None)
    person = VoterKeys(settings.secret_bytes).voter("192.0.2.1")
    with pytest.raises(visitors.NotPublic):
        run(settings, lambda c: visitors.take_back_vote(c, pending, person, T0))
