"""The question board "Dubbi sul clima": questions, votes, reports, moderation, queries.

A question's life: *ricevuta* (sent, waits for a moderator) -> *pubblicata* (visible) ->
answered -> maybe a theatre piece (*pillola teatrale*). Moderators may also reject it
(*respinta*) or withdraw it (*nascosta*); enough reports from different people hide it
(*segnalata*) until a moderator reviews it. Every step lands in ``moderation_log``.

Functions that write take the connection of an open write transaction and never commit:
the caller groups them with the form's nonce and rate-limit record, so a request changes
everything or nothing.
"""

from __future__ import annotations

import re
import sqlite3
import tomllib
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiosqlite

from greenweb.db import bump_content_version, fetch_all, fetch_one, fetch_value
from greenweb.italian import ROME
from greenweb.markup import render_markdown, summarise
from greenweb.pagination import Page, offset_for

PER_PAGE = 20

STATES = ("ricevuta", "pubblicata", "segnalata", "nascosta", "respinta")
STATE_LABELS = {
    "ricevuta": "Ricevuta",
    "pubblicata": "Pubblicata",
    "segnalata": "Segnalata, in revisione",
    "nascosta": "Nascosta",
    "respinta": "Respinta",
}
# What visitors see of a published question's progress, in order.
STAGES = (
    ("ricevuta", "Ricevuta"),
    ("pubblicata", "Pubblicata"),
    ("risposta", "Con risposta"),
    ("pillola", "Diventata pillola teatrale"),
)
STAGE_LABELS = dict(STAGES)

SORTS = {
    # query value: (label, ORDER BY of the page query)
    "recenti": ("Più recenti", "published_at DESC, id DESC"),
    "condivise": ("Più condivise", "me_too DESC, published_at DESC, id DESC"),
    "con-risposta": ("Con risposta", "answered_at DESC, id DESC"),
}
DEFAULT_SORT = "recenti"

REPORT_REASONS = {
    "offensiva": "Offensiva o irrispettosa",
    "spam": "Spam o pubblicità",
    "dati-personali": "Contiene dati personali",
    "fuori-tema": "Fuori tema",
    "altro": "Altro motivo",
}

LOG_LABELS = {
    "received": "ricevuta",
    "published": "pubblicata",
    "rejected": "respinta",
    "reported": "nascosta in attesa di revisione dopo le segnalazioni",
    "restored": "ripubblicata dopo la revisione",
    "unpublished": "ritirata",
    "edited": "testo corretto dalla moderazione",
    "answered": "risposta pubblicata",
    "piece": "diventata pillola teatrale",
    "resource_added": "risorsa aggiunta",
    "resource_edited": "risorsa modificata",
}

MAX_REASON_CHARS = 300
MAX_ANSWER_CHARS = 6000
MAX_PIECE_TITLE_CHARS = 200
MAX_PIECE_TEXT_CHARS = 4000
MAX_URL_CHARS = 500
EXCERPT_CHARS = 240

# --- cleaning and validating what people type -------------------------------------------

# Bidirectional embeddings, overrides and isolates can make text display in another order
# than it is stored (and than a moderator reads it); plain text never needs them.
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0xFEFF]
)
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[^\S\n]+")
_TRAILING = re.compile(r"[^\S\n]+\n")


def clean_text(raw: str, *, tab: str = " ") -> str:
    """NFC-normalised text without control characters; newlines kept, ends trimmed.

    Line and paragraph separators become newlines, tabs become ``tab``, runs of blank
    lines collapse to one blank line.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\t", tab)
    text = text.translate(_BIDI_CONTROLS)
    text = "".join(
        ch for ch in text if ch == "\n" or unicodedata.category(ch) not in {"Cc", "Cs", "Co"}
    )
    # NFC after the removals: "e<U+200E><U+0301>" only becomes "é" once the mark between
    # the letter and its accent is gone (normalised first, it stayed two code points).
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def clean_line(raw: str) -> str:
    """Like clean_text, on one line: every run of whitespace becomes one space."""
    return _SPACES.sub(" ", clean_text(raw).replace("\n", " ")).strip()


@dataclass(frozen=True)
class Limits:
    text_min: int = 15
    text_max: int = 1000
    name_max: int = 40


@dataclass(frozen=True)
class QuestionDraft:
    text: str
    display_name: str | None
    topic: str | None


@dataclass(frozen=True)
class Checked:
    """The outcome of validating a form: cleaned values, and a message per bad field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def check_text(text: str, minimum: int, maximum: int, *, what: str = "La domanda") -> str | None:
    if not text:
        return f"{what} è vuota: scrivi almeno {_count(minimum)} caratteri."
    if len(text) < minimum:
        return (
            f"{what} è troppo breve: scrivi almeno {_count(minimum)} caratteri "
            f"(ora sono {_count(len(text))})."
        )
    if len(text) > maximum:
        return (
            f"{what} è troppo lunga: al massimo {_count(maximum)} caratteri "
            f"(ora sono {_count(len(text))})."
        )
    return None


def validate_question(
    text: str | None,
    display_name: str | None,
    topic: str | None,
    *,
    limits: Limits,
    topics: Collection[str],
) -> tuple[Checked, QuestionDraft | None]:
    """Clean and check the three fields of the question form."""
    values = {
        "testo": clean_text(text or ""),
        "nome": clean_line(display_name or ""),
        "tema": (topic or "").strip(),
    }
    errors: dict[str, str] = {}
    problem = check_text(values["testo"], limits.text_min, limits.text_max)
    if problem:
        errors["testo"] = problem
    if len(values["nome"]) > limits.name_max:
        errors["nome"] = (
            f"Il nome può avere al massimo {_count(limits.name_max)} caratteri "
            f"(ora sono {_count(len(values['nome']))})."
        )
    if values["tema"] and values["tema"] not in topics:
        errors["tema"] = "Scegli un tema dall'elenco, oppure nessuno."
        values["tema"] = ""
    checked = Checked(values, errors)
    if errors:
        return checked, None
    return checked, QuestionDraft(
        text=values["testo"], display_name=values["nome"] or None, topic=values["tema"] or None
    )


def check_reason(raw: str | None, *, required: bool = True) -> tuple[str, str | None]:
    """A moderator's reason (public in the log): one line, at most MAX_REASON_CHARS."""
    reason = clean_line(raw or "")
    if required and not reason:
        return reason, "Scrivi il motivo: comparirà nel registro pubblico."
    if len(reason) > MAX_REASON_CHARS:
        return reason, f"Il motivo può avere al massimo {MAX_REASON_CHARS} caratteri."
    return reason, None


def validate_answer(raw: str | None) -> tuple[str, str | None]:
    """The Markdown of an answer, cleaned (tabs keep their Markdown width), and a problem."""
    text = clean_text(raw or "", tab="    ")
    return text, check_text(text, 1, MAX_ANSWER_CHARS, what="La risposta")


def check_http_url(url: str) -> str | None:
    if len(url) > MAX_URL_CHARS:
        return f"L'indirizzo può avere al massimo {MAX_URL_CHARS} caratteri."
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises too
    except ValueError:  # "http://[evil": an unclosed IPv6 bracket
        parts = None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or any(c.isspace() for c in url)
    ):
        return "Scrivi un indirizzo completo che inizi con https:// (o http://)."
    return None


# --- topics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    slug: str
    label: str


SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class DataFileError(ValueError):
    """A problem in data/topics.toml or data/resources.toml: ``file: field: problem``."""

    def __init__(self, path: Path | str, where: str, problem: str) -> None:
        super().__init__(f"{path}: {where}: {problem}")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(path, "file", "not found") from None
    except UnicodeDecodeError:
        raise DataFileError(path, "file", "not valid UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise DataFileError(path, "file", f"invalid TOML: {error}") from None


def parse_topics(path: Path) -> list[Topic]:
    entries = read_toml(path).get("topic")
    if not isinstance(entries, list) or not entries:
        raise DataFileError(path, "topic", "expected a list of [[topic]] tables")
    topics: list[Topic] = []
    for number, entry in enumerate(entries, start=1):
        where = f"topic {number}"
        if not isinstance(entry, dict) or set(entry) != {"slug", "label"}:
            raise DataFileError(path, where, "needs exactly the fields slug and label")
        slug, label = entry["slug"], entry["label"]
        if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > 40:
            raise DataFileError(path, f"{where}: slug", "lowercase letters, digits, hyphens")
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


# --- questions ------------------------------------------------------------------------------


def to_datetime(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class Question:
    id: int
    text: str
    display_name: str | None
    topic: str | None
    topic_label: str | None
    state: str
    created_at: datetime
    published_at: datetime | None
    answered_at: datetime | None
    piece_at: datetime | None
    updated_at: datetime
    me_too: int
    original_text: str | None = None
    answer_md: str | None = None
    answer_html: str | None = None
    piece_title: str | None = None
    piece_url: str | None = None
    piece_text: str | None = None
    open_reports: int = 0

    @property
    def is_public(self) -> bool:
        return self.state == "pubblicata"

    @property
    def stage(self) -> str:
        if self.piece_at is not None:
            return "pillola"
        if self.answered_at is not None:
            return "risposta"
        if self.published_at is not None:
            return "pubblicata"
        return "ricevuta"

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def shown_at(self) -> datetime:
        """When the question appeared (or arrived, for moderators' lists)."""
        return self.published_at or self.created_at

    @property
    def shown_on(self) -> date:
        return self.shown_at.astimezone(ROME).date()

    @property
    def excerpt(self) -> str:
        return summarise(self.text, EXCERPT_CHARS)

    @property
    def edited(self) -> bool:
        return self.original_text is not None and self.original_text != self.text


SUMMARY_COLUMNS = (
    "q.id, substr(q.text, 1, 400) AS text, q.display_name, q.topic, t.label AS topic_label, "
    "q.state, q.created_at, q.published_at, q.answered_at, q.piece_at, q.updated_at, q.me_too"
)
FULL_COLUMNS = (
    "q.id, q.text, q.display_name, q.topic, t.label AS topic_label, q.state, q.created_at, "
    "q.published_at, q.answered_at, q.piece_at, q.updated_at, q.me_too, q.original_text, "
    "q.answer_md, q.answer_html, q.piece_title, q.piece_url, q.piece_text, "
    "(SELECT count(*) FROM reports r WHERE r.question_id = q.id AND r.reviewed_at IS NULL) "
    "AS open_reports"
)


def question_from_row(row: sqlite3.Row) -> Question:
    keys = row.keys()
    extra: dict[str, Any] = {}
    for name in (
        "original_text",
        "answer_md",
        "answer_html",
        "piece_title",
        "piece_url",
        "piece_text",
        "open_reports",
    ):
        if name in keys:
            extra[name] = row[name]
    created = to_datetime(row["created_at"])
    updated = to_datetime(row["updated_at"])
    assert created is not None and updated is not None
    return Question(
        id=row["id"],
        text=row["text"],
        display_name=row["display_name"],
        topic=row["topic"],
        topic_label=row["topic_label"],
        state=row["state"],
        created_at=created,
        published_at=to_datetime(row["published_at"]),
        answered_at=to_datetime(row["answered_at"]),
        piece_at=to_datetime(row["piece_at"]),
        updated_at=updated,
        me_too=row["me_too"],
        **extra,
    )


def list_query(sort: str, topic: str | None) -> tuple[str, str]:
    """(WHERE, ORDER BY) of a public list; each pair matches one partial index."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    where = "state = 'pubblicata'"
    if sort == "con-risposta":
        where += " AND answered_at IS NOT NULL"
    if topic is not None:
        where += " AND topic = :topic"
    return where, SORTS[sort][1]


def page_sql(where: str, order: str) -> str:
    """One page of a list: the inner query walks a covering index to find the page's 20
    ids (so skipping earlier pages reads only index entries); the outer one fetches rows."""
    outer_order = ", ".join(f"q.{term}" for term in order.split(", "))
    return (
        f"SELECT {SUMMARY_COLUMNS} FROM "
        f"(SELECT id FROM questions WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset)"
        " AS p JOIN questions q ON q.id = p.id LEFT JOIN topics t ON t.slug = q.topic "
        f"ORDER BY {outer_order}"
    )


async def list_questions(
    conn: aiosqlite.Connection,
    *,
    sort: str = DEFAULT_SORT,
    topic: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Question]:
    where, order = list_query(sort, topic)
    params: dict[str, Any] = {"topic": topic}
    total = await fetch_value(conn, f"SELECT count(*) FROM questions WHERE {where}", params)
    rows = await fetch_all(
        conn,
        page_sql(where, order),
        {**params, "limit": per_page, "offset": offset_for(page, per_page)},
    )
    items = [question_from_row(row) for row in rows]
    return Page(items=items, number=page, per_page=per_page, total=int(total))


async def list_pieces(
    conn: aiosqlite.Connection, *, page: int = 1, per_page: int = PER_PAGE
) -> Page[Question]:
    """Published questions that became theatre pieces, newest piece first."""
    where = "state = 'pubblicata' AND piece_at IS NOT NULL"
    total = await fetch_value(conn, f"SELECT count(*) FROM questions WHERE {where}")
    rows = await fetch_all(
        conn,
        f"SELECT {FULL_COLUMNS} FROM "
        f"(SELECT id FROM questions WHERE {where} ORDER BY piece_at DESC, id DESC "
        "LIMIT :limit OFFSET :offset) AS p JOIN questions q ON q.id = p.id "
        "LEFT JOIN topics t ON t.slug = q.topic ORDER BY q.piece_at DESC, q.id DESC",
        {"limit": per_page, "offset": offset_for(page, per_page)},
    )
    items = [question_from_row(row) for row in rows]
    return Page(items=items, number=page, per_page=per_page, total=int(total))


async def get_question(conn: aiosqlite.Connection, question_id: int) -> Question | None:
    """Any question, whatever its state (moderators); visitors use get_public_question."""
    row = await fetch_one(
        conn,
        f"SELECT {FULL_COLUMNS} FROM questions q LEFT JOIN topics t ON t.slug = q.topic "
        "WHERE q.id = ?",
        (question_id,),
    )
    return None if row is None else question_from_row(row)


async def get_public_question(conn: aiosqlite.Connection, question_id: int) -> Question | None:
    question = await get_question(conn, question_id)
    return question if question is not None and question.is_public else None


async def moderation_queue(
    conn: aiosqlite.Connection,
    states: Sequence[str],
    *,
    page: int = 1,
    per_page: int = 50,
) -> Page[Question]:
    """Questions in ``states``, oldest first (what has waited longest comes first)."""
    for state in states:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
    marks = ", ".join("?" for _ in states)
    total = await fetch_value(
        conn, f"SELECT count(*) FROM questions WHERE state IN ({marks})", list(states)
    )
    rows = await fetch_all(
        conn,
        f"SELECT {SUMMARY_COLUMNS}, (SELECT count(*) FROM reports r WHERE r.question_id = q.id "
        "AND r.reviewed_at IS NULL) AS open_reports "
        f"FROM questions q LEFT JOIN topics t ON t.slug = q.topic WHERE q.state IN ({marks}) "
        "ORDER BY q.created_at, q.id LIMIT ? OFFSET ?",
        [*states, per_page, offset_for(page, per_page)],
    )
    items = [question_from_row(row) for row in rows]
    return Page(items=items, number=page, per_page=per_page, total=int(total))


async def state_counts(conn: aiosqlite.Connection) -> dict[str, int]:
    rows = await fetch_all(conn, "SELECT state, count(*) AS n FROM questions GROUP BY state")
    counts = dict.fromkeys(STATES, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


async def published_for_sitemap(conn: aiosqlite.Connection) -> list[tuple[int, datetime]]:
    rows = await fetch_all(
        conn,
        "SELECT id, updated_at FROM questions WHERE state = 'pubblicata' "
        "ORDER BY published_at DESC, id DESC",
    )
    return [(row["id"], datetime.fromtimestamp(row["updated_at"], UTC)) for row in rows]


# --- the log ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    id: int
    at: datetime
    action: str
    question_id: int | None
    resource_id: int | None
    reason: str | None
    moderator: str | None
    question_public: bool
    resource_title: str | None

    @property
    def label(self) -> str:
        return LOG_LABELS[self.action]


async def log_action(
    conn: aiosqlite.Connection,
    action: str,
    now: float,
    *,
    question_id: int | None = None,
    resource_id: int | None = None,
    reason: str | None = None,
    moderator: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO moderation_log (at, action, question_id, resource_id, reason, moderator) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (int(now), action, question_id, resource_id, reason or None, moderator),
    )


async def log_entries(
    conn: aiosqlite.Connection,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    question_id: int | None = None,
) -> Page[LogEntry]:
    """The log, newest first; or one question's history."""
    where, params = ("l.question_id = :qid", {"qid": question_id}) if question_id else ("1", {})
    total = await fetch_value(conn, f"SELECT count(*) FROM moderation_log l WHERE {where}", params)
    rows = await fetch_all(
        conn,
        "SELECT l.id, l.at, l.action, l.question_id, l.resource_id, l.reason, l.moderator, "
        "coalesce(q.state = 'pubblicata', 0) AS question_public, r.title AS resource_title "
        # The page's ids first, from the log alone: OFFSET then skips bare rowids instead
        # of joined rows (page 1,103 of 22,000 entries: 7.2 ms -> see benchmarks/README.md).
        f"FROM (SELECT id FROM moderation_log l WHERE {where} ORDER BY l.id DESC "
        "LIMIT :limit OFFSET :offset) AS p JOIN moderation_log l ON l.id = p.id "
        "LEFT JOIN questions q ON q.id = l.question_id "
        "LEFT JOIN resources r ON r.id = l.resource_id ORDER BY l.id DESC",
        {**params, "limit": per_page, "offset": offset_for(page, per_page)},
    )
    entries = [
        LogEntry(
            id=row["id"],
            at=datetime.fromtimestamp(row["at"], UTC),
            action=row["action"],
            question_id=row["question_id"],
            resource_id=row["resource_id"],
            reason=row["reason"],
            moderator=row["moderator"],
            question_public=bool(row["question_public"]),
            resource_title=row["resource_title"],
        )
        for row in rows
    ]
    return Page(items=entries, number=page, per_page=per_page, total=int(total))


# --- visitors' writes -------------------------------------------------------------------------


class NotPublic(LookupError):
    """The question is gone from public view (or never was) by the time of the write."""


async def _require_public(conn: aiosqlite.Connection, question_id: int) -> None:
    state = await fetch_value(conn, "SELECT state FROM questions WHERE id = ?", (question_id,))
    if state != "pubblicata":
        raise NotPublic(question_id)


async def has_voted(conn: aiosqlite.Connection, question_id: int, voter_hash: str) -> bool:
    row = await fetch_one(
        conn,
        "SELECT 1 FROM votes WHERE question_id = ? AND voter_hash = ?",
        (question_id, voter_hash),
    )
    return row is not None


async def create_question(
    conn: aiosqlite.Connection, draft: QuestionDraft, now: float, *, publish: bool
) -> int:
    """Store a new question; ``publish`` skips pre-moderation. Returns its id."""
    at = int(now)
    cursor = await conn.execute(
        "INSERT INTO questions (text, display_name, topic, state, created_at, published_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            draft.text,
            draft.display_name,
            draft.topic,
            "pubblicata" if publish else "ricevuta",
            at,
            at if publish else None,
            at,
        ),
    )
    question_id = cursor.lastrowid
    assert question_id is not None
    await log_action(conn, "received", now, question_id=question_id)
    if publish:
        await log_action(
            conn, "published", now, question_id=question_id, reason="senza moderazione preventiva"
        )
    await bump_content_version(conn)
    return question_id


async def add_vote(
    conn: aiosqlite.Connection, question_id: int, voter_hash: str, now: float
) -> bool:
    """Count one "anch'io"; False when this person already said so for this question.

    Raises NotPublic when the question is not (or no longer) published.
    """
    await _require_public(conn, question_id)
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO votes (question_id, voter_hash, created_at) VALUES (?, ?, ?)",
        (question_id, voter_hash, int(now)),
    )
    if cursor.rowcount != 1:
        return False
    await conn.execute("UPDATE questions SET me_too = me_too + 1 WHERE id = ?", (question_id,))
    await bump_content_version(conn)
    return True


@dataclass(frozen=True)
class ReportOutcome:
    counted: bool  # False when this person had already reported this question
    hidden: bool  # True when this report hid the question


async def add_report(
    conn: aiosqlite.Connection,
    question_id: int,
    reporter_hash: str,
    reason: str,
    now: float,
    *,
    threshold: int,
) -> ReportOutcome:
    """Record a report; the ``threshold``-th open report from different people hides the
    question (state *segnalata*) until a moderator reviews it."""
    if reason not in REPORT_REASONS:
        raise ValueError(f"unknown report reason {reason!r}")
    await _require_public(conn, question_id)
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO reports (question_id, reporter_hash, reason, created_at) "
        "VALUES (?, ?, ?, ?)",
        (question_id, reporter_hash, reason, int(now)),
    )
    if cursor.rowcount != 1:
        return ReportOutcome(counted=False, hidden=False)
    open_reports = await fetch_value(
        conn,
        "SELECT count(*) FROM reports WHERE question_id = ? AND reviewed_at IS NULL",
        (question_id,),
    )
    if int(open_reports) < threshold:
        return ReportOutcome(counted=True, hidden=False)
    cursor = await conn.execute(
        "UPDATE questions SET state = 'segnalata', updated_at = ? "
        "WHERE id = ? AND state = 'pubblicata'",
        (int(now), question_id),
    )
    if cursor.rowcount != 1:
        return ReportOutcome(counted=True, hidden=False)
    await log_action(
        conn,
        "reported",
        now,
        question_id=question_id,
        reason=f"{open_reports} segnalazioni da persone diverse",
    )
    await bump_content_version(conn)
    return ReportOutcome(counted=True, hidden=True)


@dataclass(frozen=True)
class ReportCount:
    reason: str
    total: int
    open: int  # not reviewed yet

    @property
    def label(self) -> str:
        return REPORT_REASONS[self.reason]


async def report_summary(conn: aiosqlite.Connection, question_id: int) -> list[ReportCount]:
    """How many reports a question got, per reason (moderators see no reporter)."""
    rows = await fetch_all(
        conn,
        "SELECT reason, count(*) AS total, count(*) FILTER (WHERE reviewed_at IS NULL) AS open "
        "FROM reports WHERE question_id = ? GROUP BY reason ORDER BY total DESC, reason",
        (question_id,),
    )
    return [ReportCount(row["reason"], row["total"], row["open"]) for row in rows]


# --- moderators' writes --------------------------------------------------------------------


class ModerationError(Exception):
    """An action that does not apply to the question as it is now (Italian message)."""


async def _state_of(conn: aiosqlite.Connection, question_id: int) -> str:
    state = await fetch_value(conn, "SELECT state FROM questions WHERE id = ?", (question_id,))
    if state is None:
        raise LookupError(question_id)
    return str(state)


async def _require_state(
    conn: aiosqlite.Connection, question_id: int, allowed: Collection[str], message: str
) -> str:
    state = await _state_of(conn, question_id)
    if state not in allowed:
        raise ModerationError(message.format(state=STATE_LABELS[state].lower()))
    return state


async def approve(
    conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
) -> None:
    await _require_state(
        conn,
        question_id,
        {"ricevuta"},
        "Si possono approvare solo le domande ricevute; questa è {state}.",
    )
    await conn.execute(
        "UPDATE questions SET state = 'pubblicata', published_at = coalesce(published_at, ?), "
        "updated_at = ? WHERE id = ?",
        (int(now), int(now), question_id),
    )
    await log_action(conn, "published", now, question_id=question_id, moderator=moderator)
    await bump_content_version(conn)


async def reject(
    conn: aiosqlite.Connection, question_id: int, reason: str, now: float, *, moderator: str
) -> None:
    await _require_state(
        conn,
        question_id,
        {"ricevuta", "segnalata", "nascosta"},
        "Questa domanda è {state}: ritirala prima di respingerla.",
    )
    await conn.execute(
        "UPDATE questions SET state = 'respinta', updated_at = ? WHERE id = ?",
        (int(now), question_id),
    )
    await _close_reports(conn, question_id, now)
    await log_action(
        conn, "rejected", now, question_id=question_id, reason=reason, moderator=moderator
    )
    await bump_content_version(conn)


async def unpublish(
    conn: aiosqlite.Connection, question_id: int, reason: str, now: float, *, moderator: str
) -> None:
    await _require_state(
        conn,
        question_id,
        {"pubblicata", "segnalata"},
        "Si possono ritirare solo le domande pubblicate o segnalate; questa è {state}.",
    )
    await conn.execute(
        "UPDATE questions SET state = 'nascosta', updated_at = ? WHERE id = ?",
        (int(now), question_id),
    )
    await _close_reports(conn, question_id, now)
    await log_action(
        conn, "unpublished", now, question_id=question_id, reason=reason, moderator=moderator
    )
    await bump_content_version(conn)


async def restore(
    conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
) -> None:
    """Publish again a reported or withdrawn question; its open reports count as reviewed."""
    await _require_state(
        conn,
        question_id,
        {"segnalata", "nascosta"},
        "Si possono ripubblicare solo le domande segnalate o nascoste; questa è {state}.",
    )
    await conn.execute(
        "UPDATE questions SET state = 'pubblicata', published_at = coalesce(published_at, ?), "
        "updated_at = ? WHERE id = ?",
        (int(now), int(now), question_id),
    )
    await _close_reports(conn, question_id, now)
    await log_action(conn, "restored", now, question_id=question_id, moderator=moderator)
    await bump_content_version(conn)


async def _close_reports(conn: aiosqlite.Connection, question_id: int, now: float) -> None:
    await conn.execute(
        "UPDATE reports SET reviewed_at = ? WHERE question_id = ? AND reviewed_at IS NULL",
        (int(now), question_id),
    )


async def edit_text(
    conn: aiosqlite.Connection,
    question_id: int,
    text: str,
    now: float,
    *,
    moderator: str,
    reason: str = "",
) -> bool:
    """Correct a question's text; the text as sent is kept in ``original_text``.

    ``text`` must already be validated. Returns False (and logs nothing) when unchanged.
    """
    await _require_state(
        conn,
        question_id,
        {"ricevuta", "pubblicata", "segnalata", "nascosta"},
        "Le domande respinte non si modificano.",
    )
    cursor = await conn.execute(
        "UPDATE questions SET original_text = coalesce(original_text, text), text = ?, "
        "updated_at = ? WHERE id = ? AND text != ?",
        (text, int(now), question_id, text),
    )
    if cursor.rowcount != 1:
        return False
    await log_action(
        conn, "edited", now, question_id=question_id, reason=reason, moderator=moderator
    )
    await bump_content_version(conn)
    return True


async def answer(
    conn: aiosqlite.Connection,
    question_id: int,
    markdown: str,
    resource_ids: Sequence[int],
    now: float,
    *,
    moderator: str,
) -> None:
    """Save the answer (Markdown, rendered safely once here) and its linked resources.

    ``answered_at`` keeps the first answer's time, so a corrected answer does not jump to
    the top of the "con risposta" list.
    """
    await _require_state(
        conn,
        question_id,
        {"ricevuta", "pubblicata", "segnalata", "nascosta"},
        "Le domande respinte non ricevono risposta.",
    )
    wanted = list(dict.fromkeys(resource_ids))
    known = await fetch_all(
        conn,
        f"SELECT id FROM resources WHERE id IN ({', '.join('?' for _ in wanted)})",
        wanted,
    )
    if len(known) != len(wanted):
        raise ModerationError("Una delle risorse scelte non esiste più: ricarica la pagina.")
    previous = await fetch_value(
        conn, "SELECT answer_md FROM questions WHERE id = ?", (question_id,)
    )
    await conn.execute(
        "UPDATE questions SET answer_md = ?, answer_html = ?, "
        "answered_at = coalesce(answered_at, ?), updated_at = ? WHERE id = ?",
        (markdown, render_markdown(markdown), int(now), int(now), question_id),
    )
    await conn.execute("DELETE FROM question_resources WHERE question_id = ?", (question_id,))
    await conn.executemany(
        "INSERT INTO question_resources (question_id, resource_id, position) VALUES (?, ?, ?)",
        [(question_id, rid, n) for n, rid in enumerate(wanted, start=1)],
    )
    await log_action(
        conn,
        "answered",
        now,
        question_id=question_id,
        reason="aggiornata" if previous is not None else None,
        moderator=moderator,
    )
    await bump_content_version(conn)


@dataclass(frozen=True)
class PieceDraft:
    title: str
    url: str | None
    text: str | None


def validate_piece(
    title: str | None, url: str | None, text: str | None
) -> tuple[Checked, PieceDraft | None]:
    values = {
        "titolo": clean_line(title or ""),
        "indirizzo": clean_line(url or ""),
        "testo": clean_text(text or ""),
    }
    errors: dict[str, str] = {}
    if not values["titolo"]:
        errors["titolo"] = "Scrivi il titolo della pillola teatrale."
    elif len(values["titolo"]) > MAX_PIECE_TITLE_CHARS:
        errors["titolo"] = f"Il titolo può avere al massimo {MAX_PIECE_TITLE_CHARS} caratteri."
    if values["indirizzo"]:
        problem = check_http_url(values["indirizzo"])
        if problem:
            errors["indirizzo"] = problem
    if len(values["testo"]) > MAX_PIECE_TEXT_CHARS:
        errors["testo"] = f"Il testo può avere al massimo {_count(MAX_PIECE_TEXT_CHARS)} caratteri."
    if not errors and not values["indirizzo"] and not values["testo"]:
        errors["indirizzo"] = "Indica dove trovare la pillola: un indirizzo, il testo o entrambi."
    checked = Checked(values, errors)
    if errors:
        return checked, None
    return checked, PieceDraft(
        values["titolo"], values["indirizzo"] or None, values["testo"] or None
    )


async def mark_piece(
    conn: aiosqlite.Connection,
    question_id: int,
    piece: PieceDraft,
    now: float,
    *,
    moderator: str,
) -> None:
    await _require_state(
        conn,
        question_id,
        {"pubblicata"},
        "Solo una domanda pubblicata può diventare pillola teatrale; questa è {state}.",
    )
    await conn.execute(
        "UPDATE questions SET piece_title = ?, piece_url = ?, piece_text = ?, "
        "piece_at = coalesce(piece_at, ?), updated_at = ? WHERE id = ?",
        (piece.title, piece.url, piece.text, int(now), int(now), question_id),
    )
    await log_action(
        conn, "piece", now, question_id=question_id, reason=piece.title, moderator=moderator
    )
    await bump_content_version(conn)


# --- export ---------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "id",
    "state",
    "topic",
    "created_at",
    "published_at",
    "answered_at",
    "text",
    "original_text",
    "display_name",
    "me_too",
    "answer_md",
    "piece_title",
    "piece_url",
    "piece_text",
    "resources",
)


def _iso(value: int | None) -> str | None:
    return (
        None if value is None else datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


async def export_questions(
    conn: aiosqlite.Connection, states: Sequence[str]
) -> list[dict[str, Any]]:
    """Questions in ``states`` as plain records, oldest first (for the theatre writers).

    Holds what visitors chose to publish, and nothing about who voted or reported.
    """
    marks = ", ".join("?" for _ in states)
    rows = await fetch_all(
        conn,
        "SELECT q.*, (SELECT group_concat(r.url, ' ') FROM (SELECT r.url FROM "
        "question_resources qr JOIN resources r ON r.id = qr.resource_id "
        "WHERE qr.question_id = q.id ORDER BY qr.position) AS r) AS resources "
        f"FROM questions q WHERE q.state IN ({marks}) ORDER BY q.created_at, q.id",
        list(states),
    )
    records = []
    for row in rows:
        record = {name: row[name] for name in EXPORT_FIELDS}
        for name in ("created_at", "published_at", "answered_at"):
            record[name] = _iso(row[name])
        record["resources"] = row["resources"].split(" ") if row["resources"] else []
        records.append(record)
    return records


# Every table the board owns (tests compare their row counts before and after a request).
BOARD_TABLES = (
    "topics",
    "questions",
    "votes",
    "reports",
    "resources",
    "resource_topics",
    "question_resources",
    "moderators",
    "moderator_sessions",
    "moderation_log",
    "rate_events",
    "used_nonces",
)
