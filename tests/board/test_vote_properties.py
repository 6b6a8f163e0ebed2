"""Votes are never lost or counted twice: random sequences of "anch'io", take-backs and
merges by a few fixed client addresses, checked after every step against a model (each
question: the set of people who said "anch'io" on it) on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import aiosqlite
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenweb.board import duplicates, visitors
from greenweb.board.moderation import ModerationError
from greenweb.board.voters import Voter, VoterKeys
from greenweb.config import Settings
from greenweb.db import Database, content_version, fetch_all, with_database
from support import make_settings
from support.board import T0, publish_directly

ADDRESSES = ("192.0.2.1", "192.0.2.2", "2001:db8:1::7", "198.51.100.40")
QUESTIONS = 4
KEYS = VoterKeys(b"test-secret-not-for-production")
PEOPLE = tuple(KEYS.voter(address) for address in ADDRESSES)

steps = st.lists(
    st.tuples(
        st.sampled_from(("vote", "take_back", "merge")),
        st.integers(0, QUESTIONS - 1),
        st.integers(0, max(QUESTIONS, len(ADDRESSES)) - 1),
    ),
    max_size=30,
)


@pytest.fixture(scope="module")
def template() -> Iterator[tuple[Path, list[int]]]:
    """A migrated database with QUESTIONS published questions, copied for each example."""
    with tempfile.TemporaryDirectory() as folder:
        settings: Settings = make_settings(Path(folder))
        with_database(settings.db_path, lambda db: content_version(db.reader))
        ids = publish_directly(settings, QUESTIONS)
        yield settings.db_path, ids


class Model:
    def __init__(self, ids: list[int]) -> None:
        self.voters: dict[int, set[int]] = {q: set() for q in ids}
        self.merged_into: dict[int, int] = {}

    def public(self, question_id: int) -> bool:
        return question_id not in self.merged_into

    def merge(self, duplicate: int, kept: int) -> bool:
        """What the merge should do; False when it must be refused."""
        if duplicate == kept or not self.public(duplicate) or not self.public(kept):
            return False
        self.voters[kept] |= self.voters[duplicate]
        self.voters[duplicate] = set()
        for question, target in list(self.merged_into.items()):
            if target == duplicate:
                self.merged_into[question] = kept
        self.merged_into[duplicate] = kept
        return True


async def rows_of(conn: aiosqlite.Connection, question_id: int, person: Voter) -> int:
    group = [
        int(r[0])
        for r in await fetch_all(
            conn, "SELECT id FROM questions WHERE duplicate_of = ?", (question_id,)
        )
    ]
    forms = person.forms(question_id, group)
    marks = ", ".join("?" for _ in forms)
    found = await fetch_all(
        conn,
        f"SELECT count(*) FROM votes WHERE question_id = ? AND voter_hash IN ({marks})",
        (question_id, *forms),
    )
    return int(found[0][0])


async def check(conn: aiosqlite.Connection, model: Model) -> None:
    for question_id, voters in model.voters.items():
        me_too, rows = (
            await fetch_all(
                conn,
                "SELECT me_too, (SELECT count(*) FROM votes WHERE question_id = q.id) "
                "FROM questions q WHERE id = ?",
                (question_id,),
            )
        )[0]
        assert me_too == rows == len(voters), (question_id, me_too, rows, voters)
        if model.public(question_id):
            for n, person in enumerate(PEOPLE):
                # Counted once if they said "anch'io" on it or on a duplicate merged into it.
                assert await rows_of(conn, question_id, person) == (n in voters), (question_id, n)


async def play(path: Path, ids: list[int], sequence: list[tuple[str, int, int]]) -> None:
    db = Database(path)
    await db.open()
    model = Model(ids)
    try:
        for kind, first, second in sequence:
            question = ids[first]
            person_index = second % len(PEOPLE)
            person = PEOPLE[person_index]
            if kind == "merge":
                kept = ids[second % len(ids)]
                applies = model.merge(question, kept)
                try:
                    async with db.transaction() as conn:
                        await duplicates.merge(
                            conn, question, kept, "doppione", T0, keys=KEYS, moderator="anna"
                        )
                    assert applies, f"merge {question} -> {kept} should be refused"
                except ModerationError:
                    assert not applies, f"merge {question} -> {kept} was refused"
            else:
                write = visitors.add_vote if kind == "vote" else visitors.take_back_vote
                had = person_index in model.voters[question]
                try:
                    async with db.transaction() as conn:
                        changed = await write(conn, question, person, T0)
                except visitors.NotPublic:
                    assert not model.public(question)
                else:
                    assert model.public(question)
                    if kind == "vote":
                        assert changed is (not had)
                        model.voters[question].add(person_index)
                    else:
                        assert changed is had
                        model.voters[question].discard(person_index)
            await check(db.reader, model)
    finally:
        await db.close()


@given(sequence=steps)
def test_votes_take_backs_and_merges_never_lose_or_double_count_a_person(
    template: tuple[Path, list[int]], sequence: list[tuple[str, int, int]]
) -> None:
    source, ids = template
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "greenweb.db"
        # SQLite's backup, not a file copy: the template's last writes may still be in its
        # WAL file, which a copy of the main file would leave behind.
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
        asyncio.run(play(path, ids, sequence))
