"""The curated library behind the board: things to read, listen to and watch.

Seeded from ``data/resources.toml`` (with the topics of ``data/topics.toml``) when the
database is migrated and when the app starts; afterwards moderators edit resources on the
site. A seed entry changed in the file updates its row only while no moderator has edited
that row: once someone edits it on the site, the site's version wins.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from greenweb import board
from greenweb.board import Checked, DataFileError, check_http_url, clean_line, read_toml
from greenweb.db import Database, bump_content_version, fetch_all, fetch_one, fetch_value
from greenweb.pagination import Page, offset_for

KINDS = {
    # kind: (label for filters, heading)
    "leggere": ("Da leggere", "leggere"),
    "ascoltare": ("Da ascoltare", "ascoltare"),
    "guardare": ("Da guardare", "guardare"),
}
LANGUAGES = {"it": "italiano", "en": "inglese", "fr": "francese", "de": "tedesco", "es": "spagnolo"}
PER_PAGE = 20

MAX_TITLE = 200
MAX_SOURCE = 120
MAX_SUMMARY = 400
FIELDS = ("slug", "title", "url", "kind", "source", "language", "summary", "topics")


@dataclass(frozen=True)
class ResourceDraft:
    title: str
    url: str
    kind: str
    source: str
    language: str
    summary: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Resource:
    id: int
    slug: str
    title: str
    url: str
    kind: str
    source: str
    language: str
    summary: str
    topics: tuple[str, ...]
    position: int

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind][0]

    @property
    def language_label(self) -> str:
        return LANGUAGES.get(self.language, self.language)


def validate_resource(
    title: str | None,
    url: str | None,
    kind: str | None,
    source: str | None,
    language: str | None,
    summary: str | None,
    topics: Sequence[str],
    *,
    known_topics: Collection[str],
) -> tuple[Checked, ResourceDraft | None]:
    """Check a resource as typed by a moderator (or read from the seed file)."""
    values = {
        "titolo": clean_line(title or ""),
        "indirizzo": clean_line(url or ""),
        "tipo": (kind or "").strip(),
        "fonte": clean_line(source or ""),
        "lingua": (language or "").strip(),
        "sintesi": clean_line(summary or ""),
    }
    errors: dict[str, str] = {}
    if not values["titolo"]:
        errors["titolo"] = "Scrivi il titolo."
    elif len(values["titolo"]) > MAX_TITLE:
        errors["titolo"] = f"Il titolo può avere al massimo {MAX_TITLE} caratteri."
    problem = check_http_url(values["indirizzo"])
    if problem:
        errors["indirizzo"] = problem
    if values["tipo"] not in KINDS:
        errors["tipo"] = "Scegli se è da leggere, da ascoltare o da guardare."
    if not values["fonte"]:
        errors["fonte"] = "Scrivi chi la pubblica."
    elif len(values["fonte"]) > MAX_SOURCE:
        errors["fonte"] = f"La fonte può avere al massimo {MAX_SOURCE} caratteri."
    if values["lingua"] not in LANGUAGES:
        errors["lingua"] = "Scegli una lingua dall'elenco."
    if not values["sintesi"]:
        errors["sintesi"] = "Scrivi una breve sintesi."
    elif len(values["sintesi"]) > MAX_SUMMARY:
        errors["sintesi"] = f"La sintesi può avere al massimo {MAX_SUMMARY} caratteri."
    chosen = tuple(dict.fromkeys(t.strip() for t in topics if t.strip()))
    if any(t not in known_topics for t in chosen):
        errors["temi"] = "Uno dei temi scelti non esiste."
    checked = Checked(values, errors)
    if errors:
        return checked, None
    return checked, ResourceDraft(
        title=values["titolo"],
        url=values["indirizzo"],
        kind=values["tipo"],
        source=values["fonte"],
        language=values["lingua"],
        summary=values["sintesi"],
        topics=chosen,
    )


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
    entries = read_toml(path).get("resource")
    if not isinstance(entries, list) or not entries:
        raise DataFileError(path, "resource", "expected a list of [[resource]] tables")
    seen: set[str] = set()
    parsed = []
    for number, entry in enumerate(entries, start=1):
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
        slug = entry["slug"]
        if not board.SLUG.match(slug) or len(slug) > 80:
            raise DataFileError(path, f"{where}: slug", "lowercase letters, digits, hyphens")
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


async def _write_topics(
    conn: aiosqlite.Connection, resource_id: int, topics: Sequence[str]
) -> None:
    await conn.execute("DELETE FROM resource_topics WHERE resource_id = ?", (resource_id,))
    await conn.executemany(
        "INSERT INTO resource_topics (resource_id, topic) VALUES (?, ?)",
        [(resource_id, topic) for topic in topics],
    )


async def store_seed(conn: aiosqlite.Connection, entries: Sequence[SeedEntry], now: float) -> int:
    """Add new seed resources and refresh unedited ones; returns how many rows changed."""
    existing = {
        row["slug"]: row
        for row in await fetch_all(conn, "SELECT id, slug, seed_hash, edited_at FROM resources")
    }
    next_position = int(
        await fetch_value(conn, "SELECT coalesce(max(position), 0) FROM resources") or 0
    )
    changed = 0
    for entry in entries:
        draft = entry.draft
        row = existing.get(entry.slug)
        if row is None:
            next_position += 1
            cursor = await conn.execute(
                "INSERT INTO resources (slug, title, url, kind, source, language, summary, "
                "position, seed_hash, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.slug,
                    draft.title,
                    draft.url,
                    draft.kind,
                    draft.source,
                    draft.language,
                    draft.summary,
                    next_position,
                    entry.digest,
                    int(now),
                    int(now),
                ),
            )
            assert cursor.lastrowid is not None
            await _write_topics(conn, cursor.lastrowid, draft.topics)
            changed += 1
        elif row["edited_at"] is None and row["seed_hash"] != entry.digest:
            await conn.execute(
                "UPDATE resources SET title = ?, url = ?, kind = ?, source = ?, language = ?, "
                "summary = ?, seed_hash = ?, updated_at = ? WHERE id = ?",
                (
                    draft.title,
                    draft.url,
                    draft.kind,
                    draft.source,
                    draft.language,
                    draft.summary,
                    entry.digest,
                    int(now),
                    row["id"],
                ),
            )
            await _write_topics(conn, row["id"], draft.topics)
            changed += 1
    return changed


@dataclass(frozen=True)
class SeedReport:
    topics_changed: bool
    resources_changed: int


async def load_board_data(db: Database, directory: Path, now: float) -> SeedReport:
    """Load ``topics.toml`` and ``resources.toml`` from ``directory`` in one transaction.

    Both files are read and checked before the database is touched; running it again with
    the same files changes nothing (and does not bump the content version).
    """
    topics = board.parse_topics(directory / "topics.toml")
    async with db.transaction() as conn:
        known = {row["slug"] for row in await fetch_all(conn, "SELECT slug FROM topics")} | {
            topic.slug for topic in topics
        }
        entries = parse_resources(directory / "resources.toml", known)
        topics_changed = await board.store_topics(conn, topics)
        changed = await store_seed(conn, entries, now)
        if topics_changed or changed:
            await bump_content_version(conn)
    return SeedReport(topics_changed, changed)


# --- reading --------------------------------------------------------------------------------

COLUMNS = (
    "r.id, r.slug, r.title, r.url, r.kind, r.source, r.language, r.summary, r.position, "
    "(SELECT group_concat(topic, ' ') FROM (SELECT rt.topic FROM resource_topics rt "
    "JOIN topics t ON t.slug = rt.topic WHERE rt.resource_id = r.id ORDER BY t.position)) "
    "AS topics"
)


def resource_from_row(row: sqlite3.Row) -> Resource:
    return Resource(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        url=row["url"],
        kind=row["kind"],
        source=row["source"],
        language=row["language"],
        summary=row["summary"],
        topics=tuple(row["topics"].split(" ")) if row["topics"] else (),
        position=row["position"],
    )


async def list_resources(
    conn: aiosqlite.Connection,
    *,
    kind: str | None = None,
    topic: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Resource]:
    where: list[str] = ["1"]
    params: dict[str, Any] = {"limit": per_page, "offset": offset_for(page, per_page)}
    if kind is not None:
        where.append("r.kind = :kind")
        params["kind"] = kind
    if topic is not None:
        where.append("r.id IN (SELECT resource_id FROM resource_topics WHERE topic = :topic)")
        params["topic"] = topic
    condition = " AND ".join(where)
    total = await fetch_value(conn, f"SELECT count(*) FROM resources r WHERE {condition}", params)
    rows = await fetch_all(
        conn,
        f"SELECT {COLUMNS} FROM resources r WHERE {condition} "
        "ORDER BY r.position, r.id LIMIT :limit OFFSET :offset",
        params,
    )
    return Page(
        items=[resource_from_row(row) for row in rows],
        number=page,
        per_page=per_page,
        total=int(total),
    )


async def all_resources(conn: aiosqlite.Connection) -> list[Resource]:
    rows = await fetch_all(conn, f"SELECT {COLUMNS} FROM resources r ORDER BY r.position, r.id")
    return [resource_from_row(row) for row in rows]


async def get_resource(conn: aiosqlite.Connection, resource_id: int) -> Resource | None:
    row = await fetch_one(conn, f"SELECT {COLUMNS} FROM resources r WHERE r.id = ?", (resource_id,))
    return None if row is None else resource_from_row(row)


async def resources_for_question(conn: aiosqlite.Connection, question_id: int) -> list[Resource]:
    rows = await fetch_all(
        conn,
        f"SELECT {COLUMNS} FROM question_resources qr JOIN resources r ON r.id = qr.resource_id "
        "WHERE qr.question_id = ? ORDER BY qr.position",
        (question_id,),
    )
    return [resource_from_row(row) for row in rows]


async def kind_counts(conn: aiosqlite.Connection) -> dict[str, int]:
    rows = await fetch_all(conn, "SELECT kind, count(*) AS n FROM resources GROUP BY kind")
    counts = dict.fromkeys(KINDS, 0)
    counts.update({row["kind"]: row["n"] for row in rows})
    return counts


# --- moderators' writes ---------------------------------------------------------------------


def _slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in ascii_title.lower()).split()
    return "-".join(words)[:60].strip("-") or "risorsa"


async def create_resource(
    conn: aiosqlite.Connection, draft: ResourceDraft, now: float, *, moderator: str
) -> int:
    base = _slugify(draft.title)
    slug, n = base, 1
    while await fetch_value(conn, "SELECT 1 FROM resources WHERE slug = ?", (slug,)):
        n += 1
        slug = f"{base}-{n}"
    position = int(await fetch_value(conn, "SELECT coalesce(max(position), 0) FROM resources"))
    cursor = await conn.execute(
        "INSERT INTO resources (slug, title, url, kind, source, language, summary, position, "
        "edited_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            slug,
            draft.title,
            draft.url,
            draft.kind,
            draft.source,
            draft.language,
            draft.summary,
            position + 1,
            int(now),
            int(now),
            int(now),
        ),
    )
    resource_id = cursor.lastrowid
    assert resource_id is not None
    await _write_topics(conn, resource_id, draft.topics)
    await board.log_action(
        conn, "resource_added", now, resource_id=resource_id, moderator=moderator
    )
    await bump_content_version(conn)
    return resource_id


async def update_resource(
    conn: aiosqlite.Connection,
    resource_id: int,
    draft: ResourceDraft,
    now: float,
    *,
    moderator: str,
) -> bool:
    """Save a moderator's edit; from now on the seed file leaves this row alone.

    Returns False when the resource does not exist.
    """
    cursor = await conn.execute(
        "UPDATE resources SET title = ?, url = ?, kind = ?, source = ?, language = ?, "
        "summary = ?, edited_at = ?, updated_at = ? WHERE id = ?",
        (
            draft.title,
            draft.url,
            draft.kind,
            draft.source,
            draft.language,
            draft.summary,
            int(now),
            int(now),
            resource_id,
        ),
    )
    if cursor.rowcount != 1:
        return False
    await _write_topics(conn, resource_id, draft.topics)
    await board.log_action(
        conn, "resource_edited", now, resource_id=resource_id, moderator=moderator
    )
    await bump_content_version(conn)
    return True


def form_values(resource: Resource) -> Mapping[str, Any]:
    """A resource as the values of the moderators' edit form."""
    return {
        "titolo": resource.title,
        "indirizzo": resource.url,
        "tipo": resource.kind,
        "fonte": resource.source,
        "lingua": resource.language,
        "sintesi": resource.summary,
        "temi": list(resource.topics),
    }
