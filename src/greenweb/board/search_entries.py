"""The board's entries in the site's search: published questions and every resource.

One mechanism keeps them right, in the style the bulletin already has (its importer and
newsroom write ``bulletin_search`` themselves): every write that changes a question calls
:func:`index_question`, and every write of a resource :func:`index_resource`, inside the
write's own transaction. Each reads the row as the write left it and makes its entry what
the row says now, or removes it, so a caller never needs to know what its write changed:
a publication adds the entry, a move out of *pubblicata* removes it, an edit or an answer
replaces it.

Not triggers: an answer's entry is the text of its rendered HTML (:func:`markup.plain_text`),
which only Python computes, and a trigger calling a Python function would break every
connection that did not register it (the sqlite3 shell, a backup script).

:func:`entries_from_tables` is the fresh rebuild the tests compare the index with, and
:func:`rebuild` writes it for rows that did not come through these writes.
"""

from __future__ import annotations

import sqlite3

import aiosqlite

from greenweb.db import fetch_all, fetch_one
from greenweb.markup import plain_text

QuestionEntry = tuple[str, str]  # text, answer (plain text)
ResourceEntry = tuple[str, str, str]  # title, source, summary

_PUBLIC_QUESTIONS = "SELECT id, text, answer_html FROM questions WHERE state = 'pubblicata'"
_RESOURCES = "SELECT id, title, source, summary FROM resources"


def _question_entry(row: sqlite3.Row) -> QuestionEntry:
    return row["text"], plain_text(row["answer_html"] or "")


def _resource_entry(row: sqlite3.Row) -> ResourceEntry:
    return row["title"], row["source"], row["summary"]


async def index_question(conn: aiosqlite.Connection, question_id: int) -> None:
    """Make the question's search entry what its row says: its text and answer while it is
    published, nothing otherwise."""
    await conn.execute("DELETE FROM question_search WHERE rowid = ?", (question_id,))
    row = await fetch_one(conn, f"{_PUBLIC_QUESTIONS} AND id = ?", (question_id,))
    if row is not None:
        await conn.execute(
            "INSERT INTO question_search (rowid, text, answer) VALUES (?, ?, ?)",
            (question_id, *_question_entry(row)),
        )


async def index_resource(conn: aiosqlite.Connection, resource_id: int) -> None:
    """Make the resource's search entry its title, source and summary as stored now."""
    await conn.execute("DELETE FROM resource_search WHERE rowid = ?", (resource_id,))
    row = await fetch_one(conn, f"{_RESOURCES} WHERE id = ?", (resource_id,))
    if row is not None:
        await conn.execute(
            "INSERT INTO resource_search (rowid, title, source, summary) VALUES (?, ?, ?, ?)",
            (resource_id, *_resource_entry(row)),
        )


async def entries_from_tables(
    conn: aiosqlite.Connection,
) -> tuple[dict[int, QuestionEntry], dict[int, ResourceEntry]]:
    """What the index should hold, computed afresh from the questions and resources."""
    questions = {
        row["id"]: _question_entry(row) for row in await fetch_all(conn, _PUBLIC_QUESTIONS)
    }
    resources = {row["id"]: _resource_entry(row) for row in await fetch_all(conn, _RESOURCES)}
    return questions, resources


async def indexed_entries(
    conn: aiosqlite.Connection,
) -> tuple[dict[int, QuestionEntry], dict[int, ResourceEntry]]:
    """What the index holds now."""
    questions = {
        row[0]: (row[1], row[2])
        for row in await fetch_all(conn, "SELECT rowid, text, answer FROM question_search")
    }
    resources = {
        row[0]: (row[1], row[2], row[3])
        for row in await fetch_all(
            conn, "SELECT rowid, title, source, summary FROM resource_search"
        )
    }
    return questions, resources


async def rebuild(conn: aiosqlite.Connection) -> None:
    """Every board entry afresh from the tables, in the caller's transaction: for rows
    written with plain SQL (the benchmarks' generator, test fixtures), never by the site."""
    questions, resources = await entries_from_tables(conn)
    await conn.execute("DELETE FROM question_search")
    await conn.execute("DELETE FROM resource_search")
    await conn.executemany(
        "INSERT INTO question_search (rowid, text, answer) VALUES (?, ?, ?)",
        [(question_id, *entry) for question_id, entry in questions.items()],
    )
    await conn.executemany(
        "INSERT INTO resource_search (rowid, title, source, summary) VALUES (?, ?, ?, ?)",
        [(resource_id, *entry) for resource_id, entry in resources.items()],
    )
