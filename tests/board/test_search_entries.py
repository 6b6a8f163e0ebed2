"""The board's search entries (greenweb.board.search_entries): after any sequence of the
board's writes the index is exactly a fresh rebuild from the tables, only published
questions have an entry, and migration 0008 fills it for rows that were already there."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import greenweb.db
from greenweb.board import duplicates, moderation, resources, search_entries, visitors
from greenweb.board.moderation import ModerationError, PieceDraft
from greenweb.board.resources import ResourceDraft
from greenweb.board.voters import VoterKeys
from greenweb.db import Database, connect, migrate, migration_scripts

T = TypeVar("T")
NOW = 1_630_742_400.0
MODERATOR = "anna"

TEXTS = (
    "Perché a Torino d'estate fa sempre più caldo?",
    "Il permafrost che si scioglie libera metano?",
    "Quanto pesa un'email sul clima? È vero che inquina?",
)
ANSWERS = (
    "Il **permafrost** si scioglie: lo spiega [questa fonte](https://example.org/metano).",
    "Sì, ma molto meno di un volo.\n\n- primo punto\n- secondo punto",
)


def run(factory: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(factory())


@pytest.fixture(scope="module")
def empty_database() -> Iterator[Path]:
    """One migrated database file, copied for every example (migrating each is slow)."""
    folder = Path(tempfile.mkdtemp(prefix="search-entries-"))
    path = folder / "template.db"

    async def make() -> None:
        conn = await connect(path)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    run(make)
    yield path
    shutil.rmtree(folder)


def draft(n: int) -> visitors.QuestionDraft:
    return visitors.QuestionDraft(TEXTS[n % len(TEXTS)], None, None)


def resource_draft(n: int) -> ResourceDraft:
    return ResourceDraft(
        title=f"Guida {n} al clima che cambia",
        url=f"https://example.org/guida-{n}",
        kind="leggere",
        source=f"Istituto {n}",
        language="it",
        summary="Una sintesi in due righe.",
        topics=(),
    )


@dataclass(frozen=True)
class Step:
    action: str
    target: int  # which question or resource, modulo how many there are
    variant: int


KEYS = VoterKeys(b"search-entries test secret")

ACTIONS = (
    "ask",
    "ask_published",
    "approve",
    "reject",
    "unpublish",
    "restore",
    "edit",
    "answer",
    "piece",
    "report",
    "vote",
    "merge",
    "add_resource",
    "edit_resource",
)
steps = st.lists(
    st.builds(Step, st.sampled_from(ACTIONS), st.integers(0, 5), st.integers(0, 5)),
    max_size=25,
)


async def play(db: Database, sequence: list[Step]) -> None:
    ids: list[int] = []
    rids: list[int] = []
    for n, step in enumerate(sequence):
        now = NOW + n
        qid = ids[step.target % len(ids)] if ids else 1
        rid = rids[step.target % len(rids)] if rids else 1
        try:
            async with db.transaction() as conn:
                match step.action:
                    case "ask" | "ask_published":
                        publish = step.action == "ask_published"
                        ids.append(
                            await visitors.create_question(
                                conn, draft(step.variant), now, publish=publish
                            )
                        )
                    case "approve":
                        await moderation.approve(conn, qid, now, moderator=MODERATOR)
                    case "reject":
                        await moderation.reject(conn, qid, "fuori tema", now, moderator=MODERATOR)
                    case "unpublish":
                        await moderation.unpublish(
                            conn, qid, "dati personali", now, moderator=MODERATOR
                        )
                    case "restore":
                        await moderation.restore(conn, qid, now, moderator=MODERATOR)
                    case "edit":
                        text = TEXTS[step.variant % len(TEXTS)] + f" (corretta {n})"
                        await moderation.edit_text(conn, qid, text, now, moderator=MODERATOR)
                    case "answer":
                        answer = ANSWERS[step.variant % len(ANSWERS)]
                        await moderation.answer(conn, qid, answer, [], now, moderator=MODERATOR)
                    case "piece":
                        piece = PieceDraft("Il caldo in scena", None, "Un monologo.")
                        await moderation.mark_piece(conn, qid, piece, now, moderator=MODERATOR)
                    case "report":
                        await visitors.add_report(
                            conn, qid, f"persona-{n}", "spam", now, threshold=2
                        )
                    case "vote":
                        await visitors.add_vote(conn, qid, KEYS.voter(f"192.0.2.{n}"), now)
                    case "merge":
                        kept = ids[step.variant % len(ids)] if ids else 1
                        await duplicates.merge(
                            conn, qid, kept, "già chiesta", now, keys=KEYS, moderator=MODERATOR
                        )
                    case "add_resource":
                        rids.append(
                            await resources.create_resource(
                                conn, resource_draft(step.variant), now, moderator=MODERATOR
                            )
                        )
                    case "edit_resource":
                        await resources.update_resource(
                            conn, rid, resource_draft(10 + n), now, moderator=MODERATOR
                        )
        except (ModerationError, LookupError):
            pass  # a move the question's state does not allow: refused, rolled back


async def index_and_rebuild(path: Path, sequence: list[Step]) -> tuple[object, object]:
    db = Database(path)
    await db.open()
    try:
        await play(db, sequence)
        return (
            await search_entries.indexed_entries(db.reader),
            await search_entries.entries_from_tables(db.reader),
        )
    finally:
        await db.close()


@hypothesis_settings(deadline=None, max_examples=60)
@given(steps)
def test_after_any_sequence_of_writes_the_index_equals_a_fresh_rebuild(
    empty_database: Path, sequence: list[Step]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "board.db"
        shutil.copy(empty_database, path)
        indexed, rebuilt = run(lambda: index_and_rebuild(path, sequence))
    assert indexed == rebuilt


def test_only_published_questions_have_an_entry_and_answers_are_plain_text(
    empty_database: Path, tmp_path: Path
) -> None:
    path = tmp_path / "board.db"
    shutil.copy(empty_database, path)
    sequence = [
        Step("ask_published", 0, 1),  # question 1: published, answered below
        Step("ask", 0, 0),  # question 2: waits
        Step("answer", 0, 0),
        Step("ask_published", 0, 2),  # question 3: published, then withdrawn
        Step("unpublish", 2, 0),
    ]
    indexed, _ = run(lambda: index_and_rebuild(path, sequence))
    questions, _ = indexed  # type: ignore[misc]
    assert set(questions) == {1}
    text, answer = questions[1]
    assert text == TEXTS[1]
    assert answer == "Il permafrost si scioglie: lo spiega questa fonte ."
    assert "**" not in answer and "https" not in answer


def test_the_reasons_of_moderators_are_never_indexed(empty_database: Path, tmp_path: Path) -> None:
    path = tmp_path / "board.db"
    shutil.copy(empty_database, path)
    sequence = [Step("ask_published", 0, 0), Step("unpublish", 0, 0), Step("restore", 0, 0)]
    indexed, _ = run(lambda: index_and_rebuild(path, sequence))
    questions, _ = indexed  # type: ignore[misc]
    assert list(questions) == [1]
    assert "personali" not in " ".join(questions[1])  # the reason of the withdrawal


def test_the_migration_fills_the_index_for_the_rows_already_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    scripts = migration_scripts()
    before_search = [script for script in scripts if script[0] < 8]
    monkeypatch.setattr(greenweb.db, "migration_scripts", lambda: before_search)

    async def migrate_file() -> None:
        conn = await connect(path)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    run(migrate_file)
    with sqlite3.connect(path) as conn:
        rows = [
            ("pubblicata", "Il caldo di Torino?", NOW, "<p>Per l'<em>isola</em> di calore.</p>"),
            ("ricevuta", "Una domanda in attesa?", None, None),
            ("respinta", "Una domanda respinta?", None, None),
            ("nascosta", "Una domanda nascosta?", NOW, None),
        ]
        for state, text, published, answer_html in rows:
            conn.execute(
                "INSERT INTO questions (text, state, created_at, published_at, updated_at, "
                "answer_md, answer_html, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    text,
                    state,
                    NOW,
                    published,
                    NOW,
                    answer_html and "x",
                    answer_html,
                    answer_html and NOW,
                ),
            )
        conn.execute(
            "INSERT INTO resources (slug, title, url, kind, source, language, summary, "
            "position, created_at, updated_at) VALUES ('g', 'Guida', 'https://example.org', "
            "'leggere', 'Istituto', 'it', 'Sintesi.', 1, ?, ?)",
            (NOW, NOW),
        )
    monkeypatch.setattr(greenweb.db, "migration_scripts", lambda: scripts)
    run(migrate_file)

    async def compare() -> tuple[object, object]:
        conn = await connect(path)
        try:
            return (
                await search_entries.indexed_entries(conn),
                await search_entries.entries_from_tables(conn),
            )
        finally:
            await conn.close()

    indexed, rebuilt = run(compare)
    assert indexed == rebuilt
    questions, found_resources = indexed  # type: ignore[misc]
    assert questions == {1: ("Il caldo di Torino?", "Per l' isola di calore.")}
    assert found_resources == {1: ("Guida", "Istituto", "Sintesi.")}
