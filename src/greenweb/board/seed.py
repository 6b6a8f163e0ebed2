"""Loading ``data/topics.toml`` and ``data/resources.toml`` into the database, when it is
migrated and when the app starts.

A seed entry changed in the file updates its row only while no moderator has edited that
row: once someone edits it on the site, the site's version wins.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from greenweb import changes
from greenweb.board.data_files import DataFileError, check_slug, read_tables
from greenweb.board.resources import (
    KINDS,
    LANGUAGES,
    MAX_SOURCE,
    MAX_SUMMARY,
    MAX_TITLE,
    ResourceDraft,
    insert_resource,
    overwrite_resource,
    validate_resource,
)
from greenweb.board.topics import parse_topics, store_topics
from greenweb.db import Database, fetch_all

FIELDS = ("slug", "title", "url", "kind", "source", "language", "summary", "topics")

# Form field -> (seed file field, problem in English for the command line).
SEED_PROBLEMS = {
    "titolo": ("title", f"must be a non-empty string of at most {MAX_TITLE} characters"),
    "indirizzo": ("url", "must be a complete http(s) URL"),
    "tipo": ("kind", f"must be one of {', '.join(KINDS)}"),
    "fonte": ("source", f"must be a non-empty string of at most {MAX_SOURCE} characters"),
    "lingua": ("language", f"must be one of {', '.join(LANGUAGES)}"),
    "sintesi": ("summary", f"must be a non-empty string of at most {MAX_SUMMARY} characters"),
    "temi": ("topics", "names a topic that data/topics.toml does not define"),
}


@dataclass(frozen=True)
class SeedEntry:
    slug: str
    draft: ResourceDraft
    digest: str


def parse_resources(path: Path, known_topics: Collection[str]) -> list[SeedEntry]:
    """Read and check every ``[[resource]]`` of the seed file; the first problem raises."""
    seen: set[str] = set()
    parsed = []
    for number, entry in enumerate(read_tables(path, "resource"), start=1):
        where = f"resource {number}"
        if not isinstance(entry, dict):
            raise DataFileError(path, where, "not a table")
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            raise DataFileError(path, f"{where}: {unknown[0]}", "unknown field")
        missing = [name for name in FIELDS if name not in entry]
        if missing:
            raise DataFileError(path, f"{where}: {missing[0]}", "missing")
        if not all(isinstance(entry[name], str) for name in FIELDS if name != "topics"):
            raise DataFileError(path, where, "every field but topics must be a string")
        topics = entry["topics"]
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise DataFileError(path, f"{where}: topics", "must be a list of topic slugs")
        slug = check_slug(path, where, entry["slug"], max_chars=80)
        if slug in seen:
            raise DataFileError(path, f"{where}: slug", f"{slug!r} appears twice")
        seen.add(slug)
        checked, draft = validate_resource(
            entry["title"],
            entry["url"],
            entry["kind"],
            entry["source"],
            entry["language"],
            entry["summary"],
            topics,
            known_topics=known_topics,
        )
        if draft is None:
            name = next(iter(checked.errors))
            field, problem = SEED_PROBLEMS[name]
            raise DataFileError(path, f"{where} ({slug}): {field}", problem)
        digest = hashlib.sha256(
            json.dumps(entry, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        parsed.append(SeedEntry(slug, draft, digest))
    return parsed


async def store_seed(conn: aiosqlite.Connection, entries: Sequence[SeedEntry], now: float) -> int:
    """Add new seed resources and refresh unedited ones; returns how many rows changed."""
    existing = {
        row["slug"]: row
        for row in await fetch_all(conn, "SELECT id, slug, seed_hash, edited_at FROM resources")
    }
    changed = 0
    for entry in entries:
        row = existing.get(entry.slug)
        if row is None:
            await insert_resource(conn, entry.slug, entry.draft, now, seed_hash=entry.digest)
            changed += 1
        elif row["edited_at"] is None and row["seed_hash"] != entry.digest:
            await overwrite_resource(conn, row["id"], entry.draft, now, seed_hash=entry.digest)
            changed += 1
    return changed


@dataclass(frozen=True)
class SeedReport:
    topics_changed: bool
    resources_changed: int


async def load_board_data(db: Database, directory: Path, now: float) -> SeedReport:
    """Load ``topics.toml`` and ``resources.toml`` from ``directory`` in one transaction.

    Both files are read and checked before the database is touched; running it again with
    the same files changes nothing (and records no change).
    """
    topics = parse_topics(directory / "topics.toml")
    async with db.transaction() as conn:
        known = {row["slug"] for row in await fetch_all(conn, "SELECT slug FROM topics")} | {
            topic.slug for topic in topics
        }
        entries = parse_resources(directory / "resources.toml", known)
        topics_changed = await store_topics(conn, topics)
        changed = await store_seed(conn, entries, now)
        if topics_changed or changed:
            # Topics show on most of the board's pages and resources on question pages.
            await changes.record(conn, changes.EVERYTHING)
    return SeedReport(topics_changed, changed)
