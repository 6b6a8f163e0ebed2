"""What each write of the board records as changed (greenweb.changes), in its own
transaction: a vote its question and the counts, never the bulletin nor the log; a
moderation step its question, the lists and the log; a resource edit the resources, the
log and the questions whose answers list it; the data files everything."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
import pytest

from greenweb import changes
from greenweb.board import moderation, resources, visitors
from greenweb.board.seed import load_board_data
from greenweb.board.voters import VoterKeys
from greenweb.changes import COUNTS, EVERYTHING, LOG, QUESTIONS, RESOURCES
from greenweb.config import Settings
from greenweb.db import Database, content_version, with_database
from support.board import T0, data_dir, publish_directly

Write = Callable[[aiosqlite.Connection], Awaitable[Any]]
MODERATOR = "anna"


def sequence(settings: Settings) -> int:
    with sqlite3.connect(settings.db_path) as conn:
        return int(conn.execute("SELECT version FROM content_version").fetchone()[0])


def recorded(settings: Settings, write: Write) -> set[str]:
    """The names ``write`` recorded, run in one transaction as the views run it."""
    before = sequence(settings)

    async def work(db: Database) -> None:
        async with db.transaction() as conn:
            await write(conn)

    with_database(settings.db_path, work)
    return changed_since(settings, before)


def changed_since(settings: Settings, before: int) -> set[str]:
    with sqlite3.connect(settings.db_path) as conn:
        rows = conn.execute("SELECT name FROM content_changes WHERE version > ?", (before,))
        return {row[0] for row in rows}


@pytest.fixture
def board(settings: Settings) -> Settings:
    """A migrated database with the seed topics and resources."""
    with_database(settings.db_path, lambda db: load_board_data(db, data_dir(), T0))
    return settings


@pytest.fixture
def question(board: Settings) -> int:
    return publish_directly(board)[0]


def question_and_lists(question_id: int) -> set[str]:
    return {changes.question(question_id), QUESTIONS, LOG}


def first_resource(settings: Settings) -> int:
    with sqlite3.connect(settings.db_path) as conn:
        return int(conn.execute("SELECT min(id) FROM resources").fetchone()[0])


def test_a_vote_records_its_question_and_the_counts_only(board: Settings, question: int) -> None:
    person = VoterKeys(board.secret_bytes).voter("192.0.2.1")
    vote: Write = lambda conn: visitors.add_vote(conn, question, person, T0)  # noqa: E731
    assert recorded(board, vote) == {changes.question(question), COUNTS}
    assert recorded(board, vote) == set()  # the same person again: nothing changed


def test_a_taken_back_vote_records_its_question_and_the_counts_only(
    board: Settings, question: int
) -> None:
    person = VoterKeys(board.secret_bytes).voter("192.0.2.1")
    recorded(board, lambda conn: visitors.add_vote(conn, question, person, T0))
    take_back: Write = lambda conn: visitors.take_back_vote(conn, question, person, T0)  # noqa: E731
    assert recorded(board, take_back) == {changes.question(question), COUNTS}
    assert recorded(board, take_back) == set()  # nothing left to take back: nothing changed


def test_a_question_waiting_for_moderation_shows_only_in_the_log(board: Settings) -> None:
    draft = visitors.QuestionDraft("Perché fa così caldo a Torino?", None, None)
    names = recorded(board, lambda conn: visitors.create_question(conn, draft, T0, publish=False))
    assert names == {LOG}


def test_a_question_published_at_once_changes_its_page_and_the_lists(board: Settings) -> None:
    draft = visitors.QuestionDraft("Perché fa così caldo a Torino?", None, None)
    created: list[int] = []

    async def ask(conn: aiosqlite.Connection) -> None:
        created.append(await visitors.create_question(conn, draft, T0, publish=True))

    names = recorded(board, ask)
    assert names == question_and_lists(created[0])


def test_reports_change_nothing_until_they_hide_the_question(
    board: Settings, question: int
) -> None:
    def report(who: str) -> Write:
        return lambda conn: visitors.add_report(conn, question, who, "spam", T0, threshold=2)

    assert recorded(board, report("persona-1")) == set()
    assert recorded(board, report("persona-2")) == question_and_lists(question)


@pytest.mark.parametrize(
    "step",
    [moderation.UNPUBLISH, moderation.RESTORE],
    ids=["unpublish", "restore"],
)
def test_a_move_between_states_changes_the_question_the_lists_and_the_log(
    board: Settings, question: int, step: moderation.Move
) -> None:
    if step is moderation.RESTORE:
        recorded(
            board,
            lambda conn: moderation.unpublish(conn, question, "prova", T0, moderator=MODERATOR),
        )
    names = recorded(
        board,
        lambda conn: moderation.move(conn, question, step, T0, moderator=MODERATOR, reason="x"),
    )
    assert names == question_and_lists(question)


def test_approving_and_rejecting_change_the_question_the_lists_and_the_log(
    board: Settings,
) -> None:
    waiting = publish_directly(board, 2, state="ricevuta", published_at=None)
    approve: Write = lambda conn: moderation.approve(conn, waiting[0], T0, moderator=MODERATOR)  # noqa: E731
    reject: Write = lambda conn: moderation.reject(  # noqa: E731
        conn, waiting[1], "fuori tema", T0, moderator=MODERATOR
    )
    assert recorded(board, approve) == question_and_lists(waiting[0])
    assert recorded(board, reject) == question_and_lists(waiting[1])


def test_corrections_answers_and_pieces_change_the_question_the_lists_and_the_log(
    board: Settings, question: int
) -> None:
    resource = first_resource(board)
    piece = moderation.PieceDraft("Il caldo", "https://example.org/pillola", None)
    writes: list[Write] = [
        lambda conn: moderation.edit_text(
            conn, question, "Un testo corretto, ben più chiaro.", T0, moderator=MODERATOR
        ),
        lambda conn: moderation.answer(
            conn, question, "Perché **sì**.", [resource], T0, moderator=MODERATOR
        ),
        lambda conn: moderation.mark_piece(conn, question, piece, T0, moderator=MODERATOR),
    ]
    for write in writes:
        assert recorded(board, write) == question_and_lists(question)
    unchanged: Write = lambda conn: moderation.edit_text(  # noqa: E731
        conn, question, "Un testo corretto, ben più chiaro.", T0, moderator=MODERATOR
    )
    assert recorded(board, unchanged) == set()


def test_a_new_resource_changes_the_resources_and_the_log(board: Settings) -> None:
    draft = resources.ResourceDraft(
        "Una guida", "https://example.org/guida", "leggere", "Esempio", "it", "Breve.", ()
    )
    names = recorded(
        board, lambda conn: resources.create_resource(conn, draft, T0, moderator=MODERATOR)
    )
    assert names == {RESOURCES, LOG}


def test_a_resource_edit_changes_the_pages_of_the_answers_that_list_it(
    board: Settings,
) -> None:
    resource = first_resource(board)
    linked, other = publish_directly(board, 2)
    recorded(
        board,
        lambda conn: moderation.answer(
            conn, linked, "Vedi la fonte.", [resource], T0, moderator=MODERATOR
        ),
    )
    draft = resources.ResourceDraft(
        "Titolo nuovo", "https://example.org/nuovo", "leggere", "Esempio", "it", "Breve.", ()
    )
    names = recorded(
        board,
        lambda conn: resources.update_resource(conn, resource, draft, T0, moderator=MODERATOR),
    )
    assert names == {RESOURCES, LOG, changes.question(linked)}
    assert changes.question(other) not in names


def test_the_data_files_change_everything_and_again_nothing(settings: Settings) -> None:
    with_database(settings.db_path, lambda db: content_version(db.reader))  # migrated

    def load() -> set[str]:
        before = sequence(settings)
        with_database(settings.db_path, lambda db: load_board_data(db, data_dir(), T0))
        return changed_since(settings, before)

    assert load() == {EVERYTHING}
    assert load() == set()
