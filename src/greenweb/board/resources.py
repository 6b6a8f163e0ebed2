"""The curated library behind the board: things to read, listen to and watch.

Moderators add and edit resources on the site, and link them to their answers; the first
ones come from ``data/resources.toml`` (see ``seed``). A row a moderator edited is marked
with ``edited_at``: from then on the seed file leaves it alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from greenweb import changes
from greenweb.board.moderation_log import log_action
from greenweb.board.search_entries import index_resource
from greenweb.board.text import Checked, check_http_url, check_length, clean_line
from greenweb.db import fetch_all, fetch_one, fetch_value, record_from_row
from greenweb.markup import slugify
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


@dataclass(frozen=True)
class ResourceDraft:
    """What a resource says, as a moderator types it or the seed file holds it."""

    title: str
    url: str
    kind: str
    source: str
    language: str
    summary: str
    topics: tuple[str, ...]

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind][0]

    @property
    def language_label(self) -> str:
        return LANGUAGES.get(self.language, self.language)


@dataclass(frozen=True)
class Resource(ResourceDraft):
    """A stored resource: its draft, with its id, slug and place in the list."""

    id: int
    slug: str
    position: int


# The moderators' form names each text field in Italian (its topics are "temi"); the
# database's columns have the fields' names.
FORM_FIELDS = {
    "titolo": "title",
    "indirizzo": "url",
    "tipo": "kind",
    "fonte": "source",
    "lingua": "language",
    "sintesi": "summary",
}


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
    chosen = tuple(dict.fromkeys(t.strip() for t in topics if t.strip()))
    problems = {
        "titolo": check_length(
            values["titolo"], MAX_TITLE, what="Il titolo", missing="Scrivi il titolo."
        ),
        "indirizzo": check_http_url(values["indirizzo"]),
        "tipo": None
        if values["tipo"] in KINDS
        else "Scegli se è da leggere, da ascoltare o da guardare.",
        "fonte": check_length(
            values["fonte"], MAX_SOURCE, what="La fonte", missing="Scrivi chi la pubblica."
        ),
        "lingua": None if values["lingua"] in LANGUAGES else "Scegli una lingua dall'elenco.",
        "sintesi": check_length(
            values["sintesi"], MAX_SUMMARY, what="La sintesi", missing="Scrivi una breve sintesi."
        ),
        "temi": None
        if all(t in known_topics for t in chosen)
        else "Uno dei temi scelti non esiste.",
    }
    errors = {name: problem for name, problem in problems.items() if problem}
    checked = Checked(values, errors)
    if errors:
        return checked, None
    return checked, ResourceDraft(
        **{field: values[name] for name, field in FORM_FIELDS.items()}, topics=chosen
    )


def form_values(resource: Resource) -> Mapping[str, Any]:
    """A resource as the values of the moderators' edit form."""
    return {name: getattr(resource, field) for name, field in FORM_FIELDS.items()} | {
        "temi": list(resource.topics)
    }


# --- reading --------------------------------------------------------------------------------

COLUMNS = (
    "r.id, r.slug, r.title, r.url, r.kind, r.source, r.language, r.summary, r.position, "
    "(SELECT group_concat(topic, ' ') FROM (SELECT rt.topic FROM resource_topics rt "
    "JOIN topics t ON t.slug = rt.topic WHERE rt.resource_id = r.id ORDER BY t.position)) "
    "AS topics"
)


def _topics(value: str | None) -> tuple[str, ...]:
    return tuple(value.split(" ")) if value else ()


def resource_from_row(row: sqlite3.Row) -> Resource:
    """The Resource of a row selected with COLUMNS."""
    return record_from_row(Resource, row, {"topics": _topics})


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


# --- writing --------------------------------------------------------------------------------


def _draft_values(draft: ResourceDraft) -> tuple[str, ...]:
    return tuple(getattr(draft, name) for name in FORM_FIELDS.values())


def _origin(seed_hash: str | None, now: float) -> tuple[str, str | int]:
    """The column that says who wrote a row, and its value: the seed entry's digest, or the
    time of a moderator's edit (which the seed then leaves alone)."""
    return ("seed_hash", seed_hash) if seed_hash is not None else ("edited_at", int(now))


async def _write_topics(
    conn: aiosqlite.Connection, resource_id: int, topics: Sequence[str]
) -> None:
    await conn.execute("DELETE FROM resource_topics WHERE resource_id = ?", (resource_id,))
    await conn.executemany(
        "INSERT INTO resource_topics (resource_id, topic) VALUES (?, ?)",
        [(resource_id, topic) for topic in topics],
    )


async def insert_resource(
    conn: aiosqlite.Connection,
    slug: str,
    draft: ResourceDraft,
    now: float,
    *,
    seed_hash: str | None,
) -> int:
    """Add a resource at the end of the list; ``seed_hash`` when the seed file adds it,
    None when a moderator does. Returns its id."""
    origin, written_by = _origin(seed_hash, now)
    position = int(await fetch_value(conn, "SELECT coalesce(max(position), 0) FROM resources"))
    columns = ", ".join(("slug", *FORM_FIELDS.values(), "position", origin))
    cursor = await conn.execute(
        f"INSERT INTO resources ({columns}, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (slug, *_draft_values(draft), position + 1, written_by, int(now), int(now)),
    )
    resource_id = cursor.lastrowid
    assert resource_id is not None
    await _write_topics(conn, resource_id, draft.topics)
    await index_resource(conn, resource_id)
    return resource_id


async def overwrite_resource(
    conn: aiosqlite.Connection,
    resource_id: int,
    draft: ResourceDraft,
    now: float,
    *,
    seed_hash: str | None,
) -> bool:
    """Replace what a resource says (``seed_hash`` as for insert_resource); False when the
    resource does not exist."""
    origin, written_by = _origin(seed_hash, now)
    assignments = ", ".join(f"{name} = ?" for name in (*FORM_FIELDS.values(), origin))
    cursor = await conn.execute(
        f"UPDATE resources SET {assignments}, updated_at = ? WHERE id = ?",
        (*_draft_values(draft), written_by, int(now), resource_id),
    )
    if cursor.rowcount != 1:
        return False
    await _write_topics(conn, resource_id, draft.topics)
    await index_resource(conn, resource_id)
    return True


async def create_resource(
    conn: aiosqlite.Connection, draft: ResourceDraft, now: float, *, moderator: str
) -> int:
    base = slugify(draft.title, max_len=60) or "risorsa"
    slug, n = base, 1
    while await fetch_value(conn, "SELECT 1 FROM resources WHERE slug = ?", (slug,)):
        n += 1
        slug = f"{base}-{n}"
    resource_id = await insert_resource(conn, slug, draft, now, seed_hash=None)
    await log_action(
        conn,
        "resource_added",
        now,
        resource_id=resource_id,
        moderator=moderator,
        changed=(changes.RESOURCES,),
    )
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
    if not await overwrite_resource(conn, resource_id, draft, now, seed_hash=None):
        return False
    await log_action(
        conn,
        "resource_edited",
        now,
        resource_id=resource_id,
        moderator=moderator,
        changed=(changes.RESOURCES, *await _pages_showing(conn, resource_id)),
    )
    return True


async def _pages_showing(conn: aiosqlite.Connection, resource_id: int) -> list[str]:
    """The names of the question pages that list ``resource_id`` among an answer's sources."""
    rows = await fetch_all(
        conn, "SELECT question_id FROM question_resources WHERE resource_id = ?", (resource_id,)
    )
    return [changes.question(row[0]) for row in rows]
