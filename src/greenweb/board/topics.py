"""The board's topics (clima, energia, ...): read from ``data/topics.toml``, kept in the
``topics`` table, offered on the question form and the resource filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from greenweb.board.data_files import DataFileError, check_slug, read_tables
from greenweb.db import fetch_all


@dataclass(frozen=True)
class Topic:
    slug: str
    label: str


def parse_topics(path: Path) -> list[Topic]:
    topics: list[Topic] = []
    for number, entry in enumerate(read_tables(path, "topic"), start=1):
        where = f"topic {number}"
        if not isinstance(entry, dict) or set(entry) != {"slug", "label"}:
            raise DataFileError(path, where, "needs exactly the fields slug and label")
        slug = check_slug(path, where, entry["slug"], max_chars=40)
        label = entry["label"]
        if not isinstance(label, str) or not label.strip() or len(label) > 60:
            raise DataFileError(path, f"{where}: label", "a non-empty string up to 60 chars")
        if any(t.slug == slug for t in topics):
            raise DataFileError(path, f"{where}: slug", f"{slug!r} appears twice")
        topics.append(Topic(slug, label.strip()))
    return topics


async def store_topics(conn: aiosqlite.Connection, topics: Sequence[Topic]) -> bool:
    """Insert new topics and update changed labels and order; True when anything changed.

    Topics missing from the file are kept: questions and resources may still use them.
    """
    existing = {
        row["slug"]: (row["label"], row["position"])
        for row in await fetch_all(conn, "SELECT slug, label, position FROM topics")
    }
    changed = False
    for position, topic in enumerate(topics, start=1):
        if existing.get(topic.slug) == (topic.label, position):
            continue
        await conn.execute(
            "INSERT INTO topics (slug, label, position) VALUES (?, ?, ?) "
            "ON CONFLICT (slug) DO UPDATE SET label = excluded.label, "
            "position = excluded.position",
            (topic.slug, topic.label, position),
        )
        changed = True
    return changed


async def list_topics(conn: aiosqlite.Connection) -> list[Topic]:
    rows = await fetch_all(conn, "SELECT slug, label FROM topics ORDER BY position, slug")
    return [Topic(row["slug"], row["label"]) for row in rows]
