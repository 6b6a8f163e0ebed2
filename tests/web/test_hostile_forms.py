"""Every hostile value in every field of every form of the question board, and in every
query parameter of its pages; then what no single field shows: repeated and missing
fields, wrong methods and content types, bad tokens, too-fast submits, open redirects
through ``next``, moderator pages without a session, tampered cookies, login brute force.

For each request: the expected status (never a 5xx); nothing stored, unless storing is
the right outcome, and then the stored value is the cleaned one and every page showing it
is escaped; no active content from the input in the answer; the site healthy after each
sweep. The expected status comes from the rules of the form (the domain validators for
"is this text acceptable", the request limits for size and encoding), so a sweep fails
as soon as the web layer and the rules disagree.

Kept fast (well under a minute for the file): argon2 with tiny parameters, a clock the
tests move instead of sleeping, tokens issued with the test secret instead of read from
pages, one request per (field, value), the megabyte values percent-encoded once.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode, urlsplit

import httpx2
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb import cli, security
from greenweb.board import moderation, questions, resources, visitors
from greenweb.board.text import check_text, clean_line, clean_text
from greenweb.bulletin import newsroom
from greenweb.config import Settings
from greenweb.newsletter.addresses import AddressError, clean_address
from greenweb.newsletter.subscribers import CHOICES, clean_kinds
from greenweb.pagination import PageNumberError, parse_page
from greenweb.search import KINDS as SEARCH_KINDS
from greenweb.search import MAX_QUERY_CHARS
from greenweb.staff import MODERATORE, REDATTORE
from greenweb.staff import NAME as NAME_RE
from greenweb.web.middleware.limits import DEFAULT_MAX_URL_BYTES
from greenweb.web.session import COOKIE
from greenweb.web.views.moderation import QUEUE_VIEWS, parse_kept_id
from greenweb.web.views.staff import safe_next
from support import make_settings
from support.board import (
    BOARD_TABLES,
    PASSWORD,
    T0,
    Clock,
    add_moderator,
    add_staff,
    as_client,
    board_client,
    cheap_password_hashing,
    login,
    token_for,
)
from support.hostile import (
    HOSTILE,
    Hostile,
    assert_escaped,
    assert_healthy,
    assert_known_markup,
    assert_local_redirect,
    assert_no_500,
    assert_no_active_content,
    form_refusal,
    hidden_fields,
)
from support.load import client_address
from support.mail import mail_settings
from support.moderation import PUBLIC_STAFF_PATHS

FORM = {"content-type": "application/x-www-form-urlencoded"}
VALID_TEXT = "Perché d'estate a Torino fa sempre più caldo, anche di notte?"
VALID_ANSWER = "Per tre ragioni, spiegate da [questa fonte](https://example.org/fonte)."
MAX_CLIENT_URL_BYTES = 6_000  # httpx refuses longer URLs; still past greenweb's 4 KB
VERSION = "content_version.version"

# --- encoding, counting -------------------------------------------------------------------

_QUOTED: dict[str, str] = {}

Value = str | Hostile


def quoted(value: Value) -> str:
    """Percent-encoded, every reserved byte escaped; hostile values encoded once."""
    if isinstance(value, str):
        return quote(value, safe="")
    if value.name not in _QUOTED:
        _QUOTED[value.name] = quote_from_bytes(value.raw, safe="")
    return _QUOTED[value.name]


def encode(pairs: list[tuple[Value, Value]]) -> bytes:
    return "&".join(f"{quoted(k)}={quoted(v)}" for k, v in pairs).encode("ascii")


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows of every table, and the content version (bumped by public changes): what
    hostile.table_counts gives, on the test's own connection (it runs twice a request).
    The change log's rows (one per name ever changed) stand with the version: which names
    each write records is checked by tests/board/test_recorded_changes.py. The search
    indexes count as their entries: their FTS5 shadow tables hold as many rows as the
    tokenizer makes of the text."""
    shadows = {
        f"{row[0]}_{part}"
        for row in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")
        for part in ("data", "idx", "content", "docsize", "config")
    }
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'content_changes'"
        )
        if row[0] not in shadows
    ]
    values = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    values[VERSION] = conn.execute("SELECT version FROM content_version").fetchone()[0]
    return values


def assert_changes(before: Mapping[str, int], after: Mapping[str, int], **diff: int) -> None:
    """Exactly ``diff`` changed (``content_version`` stands for the version number)."""
    wanted = {(VERSION if k == "content_version" else k): v for k, v in diff.items() if v}
    seen = {k: after.get(k, 0) - before.get(k, 0) for k in before.keys() | after.keys()}
    seen = {k: v for k, v in seen.items() if v}
    assert seen == wanted, f"changes {seen}, expected {wanted}"


def one(conn: sqlite3.Connection, sql: str, params: Any = ()) -> tuple[Any, ...]:
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return tuple(row)


def no_control_characters(text: str) -> bool:
    return not any(
        (unicodedata.category(c) in {"Cc", "Cs", "Co"} and c != "\n")
        or 0x202A <= ord(c) <= 0x202E
        or 0x2066 <= ord(c) <= 0x2069
        for c in text
    )


# --- the site under attack ---------------------------------------------------------------


@dataclass
class Site:
    client: TestClient
    clock: Clock
    settings: Settings
    session_id: str  # of moderator anna's session, held by ``client``
    topics: frozenset[str]
    conn: sqlite3.Connection  # the test's own: counts, checks, fixtures
    visitors: Iterator[int] = field(default_factory=itertools.count)
    texts: Iterator[int] = field(default_factory=itertools.count)

    @property
    def db(self) -> Path:
        return self.settings.db_path

    def visitor(self) -> dict[str, str]:
        """A new client address for each request: no rate limit or vote repeats."""
        return as_client(client_address(next(self.visitors)))

    def token(self, form: str, age: float = 10) -> str:
        """A visitor's form token, served ``age`` seconds ago."""
        return security.issue_token(self.settings.secret_bytes, form, self.clock() - age)

    def mod_token(self, form: str, session_id: str | None = None, age: float = 0) -> str:
        return security.issue_token(
            self.settings.secret_bytes,
            form,
            self.clock() - age,
            binding=session_id or self.session_id,
        )

    def unique(self, text: str) -> str:
        return f"{text} (n. {next(self.texts)})"

    def question(self, state: str) -> int:
        """A question inserted directly (what the forms act on, not what they test)."""
        at = int(T0) - 1000
        text = self.unique(VALID_TEXT)
        cursor = self.conn.execute(
            "INSERT INTO questions (text, state, created_at, published_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (text, state, at, None if state == "ricevuta" else at, at),
        )
        assert cursor.lastrowid is not None
        if state == "pubblicata":  # its search entry, as the board's writes would make it
            self.conn.execute(
                "INSERT INTO question_search (rowid, text, answer) VALUES (?, ?, '')",
                (cursor.lastrowid, text),
            )
        return cursor.lastrowid

    def published(self) -> int:
        return self.question("pubblicata")

    def pending(self) -> int:
        return self.question("ricevuta")

    def hidden(self) -> int:
        return self.question("nascosta")

    def post(
        self, path: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> httpx2.Response:
        return self.client.post(
            path,
            content=body,
            headers={**FORM, **self.visitor(), **(headers or {})},
            follow_redirects=False,
        )

    def get(self, url: str, **kwargs: Any) -> httpx2.Response:
        return self.client.get(url, follow_redirects=False, **kwargs)


def moderator_session(client: TestClient) -> str:
    value = client.cookies.get(COOKIE, path="/moderazione")
    assert value, "not logged in"
    return value.split(".")[0]


@contextmanager
def moderated_site(settings: Settings) -> Iterator[Site]:
    """The site with moderators anna (an editor too: the newsroom's forms) and bruno, anna
    logged in, and one published question."""
    with cheap_password_hashing(), pytest.MonkeyPatch.context() as monkeypatch:
        assert add_staff(monkeypatch, settings, "anna", MODERATORE, REDATTORE) == 0
        assert add_moderator(monkeypatch, settings, "bruno") == 0
        monkeypatch.undo()
        clock = Clock()
        with (
            board_client(settings, clock) as client,
            closing(sqlite3.connect(settings.db_path, isolation_level=None)) as conn,
        ):
            # Only this connection: what it writes are fixtures, no need to survive a crash.
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA busy_timeout = 10000")
            assert login(client, clock).status_code == 303
            topics = frozenset(r[0] for r in conn.execute("SELECT slug FROM topics"))
            site = Site(client, clock, settings, moderator_session(client), topics, conn)
            site.published()  # pages about one question need one
            yield site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # With an SMTP host (nothing is delivered: the sender runs from cron), so that the
    # subscription forms take addresses instead of saying e-mail is not available. The
    # test client speaks http: an https base URL would make the session cookie Secure.
    settings = mail_settings(
        tmp_path_factory.mktemp("hostile-forms"), smtp_port=2525, base_url="http://testserver"
    )
    with moderated_site(settings) as site:
        yield site


# --- what every answer to a hostile POST must be -----------------------------------------


def assert_inert(site: Site, html: str, case: Hostile | None, *, escaped: bool = True) -> None:
    """Nothing active, no markup greenweb does not write, no secret; and a value with
    ``<`` or ``&`` never shown as sent. (A value with quotes only is left to the markup
    check: ``"clima`` legitimately occurs in ``value="clima"``.)"""
    assert_no_active_content(html)
    assert_known_markup(html)
    assert site.settings.secret not in html
    if escaped and case is not None and isinstance(case.value, str) and set("<&") & set(case.value):
        assert_escaped(html, case.value)


def assert_safe_answer(
    site: Site,
    response: httpx2.Response,
    case: Hostile | None,
    expected: int,
    *,
    escaped: bool = True,
    cookie_allowed: bool = False,
) -> None:
    assert_no_500(response)
    assert response.status_code == expected, (
        f"{response.status_code} (expected {expected}): {response.text[-400:]}"
    )
    if not cookie_allowed:
        assert "set-cookie" not in response.headers, response.headers.get_list("set-cookie")
    for name, value in response.headers.multi_items():
        assert "evil.example" not in value and "greenweb=1" not in value, (name, value)
    if "location" in response.headers:
        assert_local_redirect(response)
    if response.request.method == "POST":
        assert response.headers.get("cache-control") == "no-store"
    if response.headers.get("content-type", "").startswith("text/html"):
        assert_inert(site, response.text, case, escaped=escaped)


def assert_page_safe(site: Site, url: str, case: Hostile, *, escaped: bool = True) -> str:
    """A page showing a stored hostile value: 200, inert."""
    page = site.get(url)
    assert page.status_code == 200, (url, page.status_code)
    assert_inert(site, page.text, case, escaped=escaped)
    return page.text


# --- the forms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One valid submission of a form (token included), about to be spoilt."""

    path: str
    fields: dict[str, str]
    question_id: int | None = None
    resource_id: int | None = None
    swept: frozenset[str] = frozenset()  # the field(s) holding the hostile value


@dataclass(frozen=True)
class Expect:
    status: int
    changes: dict[str, int] = field(default_factory=dict)
    # After a 303: checks the stored values and the pages showing them.
    check: Callable[[Site, Target, Hostile], None] | None = None


@dataclass(frozen=True)
class Form:
    name: str
    prepare: Callable[[Site], Target]
    # The outcome for these (decoded) fields; the request limits are applied before.
    expect: Callable[[Site, Target, dict[str, str]], Expect]
    fields: tuple[str, ...]
    markdown: tuple[str, ...] = ()  # Markdown fields: entities render, so only "nothing active"


def question_columns(site: Site, target: Target, columns: str) -> tuple[Any, ...]:
    """``columns`` of the question ``target`` acts on, as stored."""
    return one(site.conn, f"SELECT {columns} FROM questions WHERE id = ?", (target.question_id,))


def token_ok(target: Target, fields: Mapping[str, str]) -> bool:
    return fields.get("token") == target.fields["token"]


def visitors_gate(target: Target, fields: Mapping[str, str]) -> Expect | None:
    """What a visitors' form answers before its own rules: 403 for a token that is not the
    one served, 400 for a filled honeypot; None when the form's rules decide."""
    if not token_ok(target, fields):
        return Expect(403)
    if fields.get("sito_web"):
        return Expect(400)
    return None


# The question form --------------------------------------------------------------------------


def question_target(site: Site) -> Target:
    fields = {
        "token": site.token("question"),
        "testo": site.unique(VALID_TEXT),
        "nome": "",
        "tema": "",
        "sito_web": "",
    }
    return Target("/domande/nuova", fields)


def question_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if (refused := visitors_gate(target, fields)) is not None:
        return refused
    limits = visitors.Limits(
        site.settings.question_min_chars,
        site.settings.question_max_chars,
        site.settings.name_max_chars,
    )
    _, draft = visitors.validate_question(
        fields.get("testo"),
        fields.get("nome"),
        fields.get("tema"),
        limits=limits,
        topics=site.topics,
    )
    if draft is None:
        return Expect(422)
    if "anteprima" in fields:
        return Expect(200)

    def check(site: Site, target: Target, case: Hostile) -> None:
        qid, text, name, topic, state = one(
            site.conn,
            "SELECT id, text, display_name, topic, state FROM questions ORDER BY id DESC LIMIT 1",
        )
        assert (text, name, topic, state) == (
            draft.text,
            draft.display_name,
            draft.topic,
            "ricevuta",
        )
        assert no_control_characters(text) and no_control_characters(name or "")
        assert unicodedata.is_normalized("NFC", text)
        if {"testo", "nome"} & target.swept:  # the hostile value was stored: show it
            assert_page_safe(site, f"/moderazione/domande/{qid}", case)
            site.conn.execute(
                "UPDATE questions SET state = 'pubblicata', published_at = 1 WHERE id = ?", (qid,)
            )
            assert_page_safe(site, f"/domande/{qid}", case)

    return Expect(
        303,
        {
            "questions": 1,
            "moderation_log": 1,
            "rate_events": 1,
            "used_nonces": 1,
            "content_version": 1,
        },
        check,
    )


# The e-mail bulletin's forms ----------------------------------------------------------------


def subscribe_target(site: Site) -> Target:
    fields = {
        "token": site.token("subscribe"),
        "indirizzo": f"lettore{next(site.texts)}@example.org",
        "scelta": "numero",
        "tipi": "bando",
        "sito_web": "",
    }
    return Target("/iscriviti", fields)


def address_ok(fields: Mapping[str, str]) -> bool:
    try:
        clean_address(fields.get("indirizzo", ""))
    except AddressError:
        return False
    return True


def subscribe_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if (refused := visitors_gate(target, fields)) is not None:
        return refused
    try:
        clean_kinds([fields["tipi"]] if "tipi" in fields else [])
    except ValueError:
        return Expect(422)
    if not address_ok(fields) or fields.get("scelta") not in CHOICES:
        return Expect(422)
    # A new address: pending, with its confirmation e-mail queued.
    changes = {"newsletter_subscriber": 1, "newsletter_outbox": 1}
    return Expect(303, {**changes, "rate_events": 1, "used_nonces": 1})


def manage_target(site: Site) -> Target:
    fields = {"token": site.token("manage"), "indirizzo": "nessuno@example.org", "sito_web": ""}
    return Target("/iscriviti/gestisci", fields)


def manage_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if (refused := visitors_gate(target, fields)) is not None:
        return refused
    if not address_ok(fields):
        return Expect(422)
    # Nobody subscribed: the same answer, and nothing queued.
    return Expect(303, {"rate_events": 1, "used_nonces": 1})


# "Anch'io" and "segnala" -------------------------------------------------------------------


def vote_target(site: Site) -> Target:
    qid = site.published()
    # As the question form's preview sends it (a similar question's own "anch'io").
    fields = {"token": site.token(f"vote-{qid}"), "sito_web": "", "da": "anteprima"}
    return Target(f"/domande/{qid}/anchio", fields, question_id=qid)


def vote_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if (refused := visitors_gate(target, fields)) is not None:
        return refused
    if fields.get("da") not in (None, "", "anteprima"):
        return Expect(400)  # a provenance no page of the site sends

    def check(site: Site, target: Target, case: Hostile) -> None:
        assert one(
            site.conn, "SELECT me_too FROM questions WHERE id = ?", (target.question_id,)
        ) == (1,)

    changes = {"votes": 1, "rate_events": 1, "used_nonces": 1, "content_version": 1}
    return Expect(303, changes, check)


def unvote_target(site: Site) -> Target:
    qid = site.published()
    fields = {"token": site.token(f"unvote-{qid}"), "sito_web": ""}
    return Target(f"/domande/{qid}/anchio/ritira", fields, question_id=qid)


def unvote_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    """Every request comes from a new visitor, who never said "anch'io": through the gate,
    409 (nothing to take back) and nothing changed, not even the token's nonce."""
    return visitors_gate(target, fields) or Expect(409)


def report_target(site: Site) -> Target:
    qid = site.published()
    fields = {"token": site.token(f"report-{qid}"), "sito_web": "", "motivo": "spam"}
    return Target(f"/domande/{qid}/segnala", fields, question_id=qid)


def report_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if (refused := visitors_gate(target, fields)) is not None:
        return refused
    if fields.get("motivo") not in visitors.REPORT_REASONS:
        return Expect(422)
    return Expect(303, {"reports": 1, "rate_events": 1, "used_nonces": 1})


# Moderation ----------------------------------------------------------------------------------


def mod_target(site: Site, action: str, qid: int, **fields: str) -> Target:
    token = site.mod_token(f"mod-{action}-{qid}")
    return Target(f"/moderazione/domande/{qid}/{action}", {"token": token, **fields}, qid)


MOD_CHANGE = {"moderation_log": 1, "used_nonces": 1, "content_version": 1}


def state_check(state: str, logged: str | None = None) -> Callable[[Site, Target, Hostile], None]:
    def check(site: Site, target: Target, case: Hostile) -> None:
        assert one(
            site.conn, "SELECT state FROM questions WHERE id = ?", (target.question_id,)
        ) == (state,)
        if logged is not None:
            field_value = target.fields.get(logged)  # not the hostile one: read the log
            reason = one(
                site.conn,
                "SELECT reason FROM moderation_log WHERE question_id = ? ORDER BY id DESC",
                (target.question_id,),
            )[0]
            assert reason is not None and no_control_characters(reason), field_value
            assert "\n" not in reason
            # A list of everything logged so far: earlier values are in it too (the
            # "<script>" of one case is, escaped, the "&lt;script&gt;" of another).
            assert_page_safe(site, "/moderazione/registro", case, escaped=False)
        assert_page_safe(site, f"/moderazione/domande/{target.question_id}", case)

    return check


def reason_expect(
    field_name: str, state: str, search_entries: int = 0
) -> Callable[[Site, Target, dict[str, str]], Expect]:
    """``search_entries``: how the move changes the count of questions in the search."""

    def expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
        if not token_ok(target, fields):
            return Expect(403)
        _, problem = moderation.check_reason(fields.get(field_name))
        if problem:
            return Expect(422)
        changes = {**MOD_CHANGE, "question_search": search_entries}
        return Expect(303, changes, state_check(state, field_name))

    return expect


def merge_target(site: Site) -> Target:
    kept = site.published()
    fields = {"doppione_di": str(kept), "motivo_unisci": "Stessa domanda"}
    return mod_target(site, "unisci", site.pending(), **fields)


def merge_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    """A hostile kept number is never one (422), or names no published question (409)."""
    if not token_ok(target, fields):
        return Expect(403)
    kept = parse_kept_id(fields.get("doppione_di"))
    _, problem = moderation.check_reason(fields.get("motivo_unisci"))
    if kept is None or problem:
        return Expect(422)
    if str(kept) != target.fields["doppione_di"]:
        return Expect(409)
    return Expect(303, MOD_CHANGE, state_check("respinta", "motivo_unisci"))


def plain_expect(state: str) -> Callable[[Site, Target, dict[str, str]], Expect]:
    def expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
        if not token_ok(target, fields):
            return Expect(403)
        return Expect(303, MOD_CHANGE, state_check(state))

    return expect


def edit_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if not token_ok(target, fields):
        return Expect(403)
    text = clean_text(fields.get("testo") or "")
    problem = check_text(text, site.settings.question_min_chars, site.settings.question_max_chars)
    _, reason_problem = moderation.check_reason(fields.get("motivo_modifica"), required=False)
    if problem or reason_problem:
        return Expect(422)

    def check(site: Site, target: Target, case: Hostile) -> None:
        stored, original = question_columns(site, target, "text, original_text")
        assert stored == text and original is not None and original != text
        assert no_control_characters(stored)
        assert_page_safe(site, f"/moderazione/domande/{target.question_id}", case)

    return Expect(303, MOD_CHANGE, check)


def answer_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if not token_ok(target, fields):
        return Expect(403)
    markdown, problem = moderation.validate_answer(fields.get("risposta"))
    chosen = [v for k, v in fields.items() if k == "risorse"]
    if problem or not all(v.isascii() and v.isdigit() and len(v) < 10 for v in chosen):
        return Expect(422)
    if "anteprima" in fields:
        return Expect(200)
    known = {r[0] for r in site.conn.execute("SELECT id FROM resources")}
    if any(int(v) not in known for v in chosen):
        return Expect(409)

    def check(site: Site, target: Target, case: Hostile) -> None:
        stored, rendered = question_columns(site, target, "answer_md, answer_html")
        assert stored == markdown
        assert_no_active_content(rendered)
        assert_page_safe(site, f"/domande/{target.question_id}", case, escaped=False)

    return Expect(303, {**MOD_CHANGE, "question_resources": len(chosen)}, check)


def piece_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if not token_ok(target, fields):
        return Expect(403)
    _, piece = moderation.validate_piece(
        fields.get("titolo"), fields.get("indirizzo"), fields.get("testo_pillola")
    )
    if piece is None:
        return Expect(422)

    def check(site: Site, target: Target, case: Hostile) -> None:
        stored = question_columns(site, target, "piece_title, piece_url, piece_text")
        assert stored == (piece.title, piece.url, piece.text)
        if piece.url is not None:
            assert urlsplit(piece.url).scheme in {"http", "https"}
        assert_page_safe(site, f"/domande/{target.question_id}", case)
        assert_page_safe(site, "/pillole", case, escaped=False)  # a list: see above

    return Expect(303, MOD_CHANGE, check)


# Resources -----------------------------------------------------------------------------------

RESOURCE = {
    "titolo": "Il clima spiegato bene",
    "indirizzo": "https://example.org/risorsa",
    "tipo": "leggere",
    "fonte": "Una rivista",
    "lingua": "it",
    "sintesi": "Una sintesi breve e chiara.",
    "temi": "clima",
}


def new_resource_target(site: Site) -> Target:
    # A title of its own: same-titled resources get slugs -2, -3... found one query each.
    fields = {"token": site.mod_token("mod-resource-new"), **RESOURCE}
    fields["titolo"] = site.unique(RESOURCE["titolo"])
    return Target("/moderazione/risorse/nuova", fields)


def edit_resource_target(site: Site) -> Target:
    rid = one(site.conn, "SELECT min(id) FROM resources")[0]
    fields = {"token": site.mod_token(f"mod-resource-{rid}"), **RESOURCE}
    return Target(f"/moderazione/risorse/{rid}", fields, resource_id=rid)


def resource_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    if not token_ok(target, fields):
        return Expect(403)
    _, draft = resources.validate_resource(
        fields.get("titolo"),
        fields.get("indirizzo"),
        fields.get("tipo"),
        fields.get("fonte"),
        fields.get("lingua"),
        fields.get("sintesi"),
        [v for k, v in fields.items() if k == "temi"],
        known_topics=site.topics,
    )
    if draft is None:
        return Expect(422)

    def check(site: Site, target: Target, case: Hostile) -> None:
        rid = target.resource_id or one(site.conn, "SELECT max(id) FROM resources")[0]
        stored = one(
            site.conn,
            "SELECT title, url, kind, source, language, summary FROM resources WHERE id = ?",
            (rid,),
        )
        assert stored == (
            draft.title,
            draft.url,
            draft.kind,
            draft.source,
            draft.language,
            draft.summary,
        )
        assert urlsplit(draft.url).scheme in {"http", "https"}
        assert_page_safe(site, f"/moderazione/risorse/{rid}", case)

    if target.resource_id is None:
        changes = {
            "resources": 1,
            "resource_topics": len(draft.topics),
            "resource_search": 1,
            **MOD_CHANGE,
        }
    else:
        linked = one(
            site.conn,
            "SELECT count(*) FROM resource_topics WHERE resource_id = ?",
            (target.resource_id,),
        )[0]
        changes = {"resource_topics": len(draft.topics) - linked, **MOD_CHANGE}
    return Expect(303, changes, check)


# The newsroom -------------------------------------------------------------------------------

NEWSROOM_ITEM = {
    **dict.fromkeys(newsroom.FORM_FIELDS, ""),
    "kind": "bando",
    "deadline": "2021-10-31",
    "where": "Torino",
    "organisers": "Comune di Torino",
    "amount_max": "5000",
    "contact_email": "bandi@example.org",
    "links": "https://example.org/bando",
    "tags": "reti, clima",
    "author": "Redazione",
    "body": "Un bando per le **reti** di quartiere.",
}


def newsroom_fields(site: Site) -> dict[str, str]:
    n = next(site.texts)
    return {**NEWSROOM_ITEM, "title": f"Bando per le reti n. {n}", "slug": f"bando-reti-{n}"}


def newsroom_new_target(site: Site) -> Target:
    fields = {"token": site.mod_token("newsroom-new"), "azione": "bozza", **newsroom_fields(site)}
    return Target("/redazione/nuova", fields)


def newsroom_edit_target(site: Site) -> Target:
    """A draft saved through the form (its first revision), about to be saved again."""
    made = newsroom_new_target(site)
    response = site.post(made.path, encode(list(made.fields.items())))
    assert response.status_code == 303, response.text[-300:]
    item_id = int(response.headers["location"].split("?")[0].rsplit("/", 1)[1])
    fields = {
        **made.fields,
        "token": site.mod_token(f"newsroom-{item_id}"),
        "revision": "1",
        "title": made.fields["title"] + " (corretto)",
    }
    return Target(f"/redazione/{item_id}", fields, resource_id=item_id)


def newsroom_expect(site: Site, target: Target, fields: dict[str, str]) -> Expect:
    """The view's rules: the token, then the button, then the revision of an edit, then the
    importer's check of the fields (newsroom.check_form) and the unique address."""
    if not token_ok(target, fields):
        return Expect(403)
    if fields.get("azione") != "bozza":
        return Expect(400)
    item_id = target.resource_id
    if item_id is not None and fields.get("revision") != "1":
        return Expect(409)
    values = newsroom.form_values(fields)
    try:
        item = newsroom.check_form(values, position=1)
    except newsroom.NewsroomError:
        return Expect(422)
    taken = one(
        site.conn,
        "SELECT count(*) FROM bulletin_item WHERE slug = ? AND id IS NOT ?",
        (item.slug, item_id),
    )[0]
    if taken:
        return Expect(422)

    def check(site: Site, target: Target, case: Hostile) -> None:
        rid = target.resource_id or one(site.conn, "SELECT max(id) FROM bulletin_item")[0]
        stored = one(
            site.conn, "SELECT title, slug, body_markdown FROM bulletin_item WHERE id = ?", (rid,)
        )
        assert stored == (item.title, item.slug, values["body"])
        assert all(urlsplit(link).scheme in {"http", "https"} for link in item.links)
        assert_page_safe(site, f"/redazione/{rid}", case)
        assert_page_safe(site, f"/redazione/{rid}/revisioni", case)

    if item_id is None:
        changes = {"bulletin_item": 1, "bulletin_tag": len(item.tags), "bulletin_revision": 1}
    else:
        linked = one(site.conn, "SELECT count(*) FROM bulletin_tag WHERE item_id = ?", (item_id,))[
            0
        ]
        changes = {"bulletin_tag": len(item.tags) - linked, "bulletin_revision": 1}
    return Expect(303, {**changes, "used_nonces": 1, "content_version": 1}, check)


def logout_target(site: Site) -> Target:
    return Target("/moderazione/esci", {"token": site.mod_token("logout")})


FORMS: dict[str, Form] = {
    form.name: form
    for form in (
        Form(
            "domanda",
            question_target,
            question_expect,
            ("token", "testo", "nome", "tema", "sito_web", "anteprima"),
        ),
        Form("anchio", vote_target, vote_expect, ("token", "sito_web", "da")),
        Form("ritira-anchio", unvote_target, unvote_expect, ("token", "sito_web")),
        Form(
            "iscriviti",
            subscribe_target,
            subscribe_expect,
            ("token", "indirizzo", "scelta", "tipi", "sito_web"),
        ),
        Form("gestisci", manage_target, manage_expect, ("token", "indirizzo", "sito_web")),
        Form("segnala", report_target, report_expect, ("token", "sito_web", "motivo")),
        Form(
            "approva",
            lambda s: mod_target(s, "approva", s.pending()),
            plain_expect("pubblicata"),
            ("token",),
        ),
        Form(
            "respingi",
            lambda s: mod_target(s, "respingi", s.pending(), motivo_respingi="Fuori tema"),
            reason_expect("motivo_respingi", "respinta"),
            ("token", "motivo_respingi"),
        ),
        Form(
            "ritira",
            lambda s: mod_target(s, "ritira", s.published(), motivo_ritira="Dati personali"),
            reason_expect("motivo_ritira", "nascosta", search_entries=-1),
            ("token", "motivo_ritira"),
        ),
        Form("unisci", merge_target, merge_expect, ("token", "doppione_di", "motivo_unisci")),
        Form(
            "ripristina",
            lambda s: mod_target(s, "ripristina", s.hidden()),
            plain_expect("pubblicata"),
            ("token",),
        ),
        Form(
            "modifica",
            lambda s: mod_target(
                s,
                "modifica",
                s.pending(),
                testo=s.unique("Testo corretto: " + VALID_TEXT),
                motivo_modifica="",
            ),
            edit_expect,
            ("token", "testo", "motivo_modifica"),
        ),
        Form(
            "rispondi",
            lambda s: mod_target(s, "rispondi", s.published(), risposta=VALID_ANSWER),
            answer_expect,
            ("token", "risposta", "risorse", "anteprima"),
            markdown=("risposta",),
        ),
        Form(
            "pillola",
            lambda s: mod_target(
                s,
                "pillola",
                s.published(),
                titolo="Il caldo in città",
                indirizzo="https://example.org/pillola",
                testo_pillola="",
            ),
            piece_expect,
            ("token", "titolo", "indirizzo", "testo_pillola"),
        ),
        Form(
            "risorsa-nuova",
            new_resource_target,
            resource_expect,
            ("token", "titolo", "indirizzo", "tipo", "fonte", "lingua", "sintesi", "temi"),
        ),
        Form("risorsa-modifica", edit_resource_target, resource_expect, ("token", "indirizzo")),
        Form(
            "redazione-nuova",
            newsroom_new_target,
            newsroom_expect,
            ("token", "azione", *newsroom.FORM_FIELDS),
            markdown=("body",),
        ),
        Form(
            "redazione-modifica",
            newsroom_edit_target,
            newsroom_expect,
            ("token", "azione", "revision", "title", "slug", "links", "body"),
            markdown=("body",),
        ),
        # A hostile token must not log anyone out (a good one would: not swept).
        Form("esci", logout_target, lambda s, t, f: Expect(403), ("token",)),
    )
}

SWEEPS = [(form.name, name) for form in FORMS.values() for name in form.fields]


def send_case(site: Site, form: Form, field_name: str, case: Hostile, target: Target) -> bool:
    """Send ``target`` with ``case`` in ``field_name``; True when the target was used up
    (stored: the next case needs a fresh question and token)."""
    target = replace(target, swept=frozenset({field_name}))
    pairs: list[tuple[Value, Value]] = [
        (k, case if k == field_name else v) for k, v in target.fields.items()
    ]
    if field_name not in target.fields:
        pairs.append((field_name, case))
    body = encode(pairs)
    refusal = form_refusal(body, case, site.settings.max_body_bytes)
    if refusal is not None:
        expect = Expect(refusal)
    else:
        assert case.text is not None
        expect = form.expect(site, target, {**target.fields, field_name: case.text})
    before = counts(site.conn)
    response = site.post(target.path, body)
    assert_safe_answer(site, response, case, expect.status, escaped=field_name not in form.markdown)
    after = counts(site.conn)
    assert_changes(before, after, **(expect.changes if expect.status == 303 else {}))
    if expect.status == 303 and expect.check is not None:
        expect.check(site, target, case)
    return expect.status == 303


@pytest.mark.parametrize(("form_name", "field_name"), SWEEPS, ids=[f"{f}-{n}" for f, n in SWEEPS])
def test_every_hostile_value_in_every_field_of_every_form(
    site: Site, form_name: str, field_name: str
) -> None:
    form = FORMS[form_name]
    failures = []
    target: Target | None = None
    for case in HOSTILE:
        # A refused request leaves its question and token unused: the next case reuses them.
        target = target or form.prepare(site)
        try:
            if send_case(site, form, field_name, case, target):
                target = None
        except AssertionError as error:
            failures.append(f"{case.name}: {str(error)[:600]}")
            target = None
    assert not failures, f"{len(failures)} cases failed:\n" + "\n".join(failures[:15])
    assert_healthy(site.client)


@pytest.mark.parametrize("form_name", ["domanda", "anchio", "segnala", "respingi", "risorsa-nuova"])
def test_hostile_field_names_are_ignored_or_refused(site: Site, form_name: str) -> None:
    """An unknown field, whatever its name, changes nothing about the outcome."""
    form = FORMS[form_name]
    failures = []
    for case in HOSTILE:
        target = form.prepare(site)
        pairs: list[tuple[Value, Value]] = [*target.fields.items(), (case, "1")]
        body = encode(pairs)
        refusal = form_refusal(body, case, site.settings.max_body_bytes)
        if refusal is None and case.text in target.fields:
            continue  # not an unknown field: the sweeps above cover it
        expect = Expect(refusal) if refusal else form.expect(site, target, dict(target.fields))
        before = counts(site.conn)
        response = site.post(target.path, body)
        try:
            assert_safe_answer(site, response, case, expect.status)
            assert_changes(
                before, counts(site.conn), **(expect.changes if expect.status == 303 else {})
            )
        except AssertionError as error:
            failures.append(f"{case.name}: {str(error)[:400]}")
    assert not failures, "\n".join(failures[:15])
    assert_healthy(site.client)


def test_the_sweeps_send_enough_distinct_hostile_values() -> None:
    assert len(HOSTILE) >= 60
    assert len({case.raw for case in HOSTILE}) == len(HOSTILE)
    assert len(SWEEPS) >= 35
    kinds = {case.kind for case in HOSTILE}
    assert {"script", "url", "sql", "control", "encoding", "bidi", "size"} <= kinds


# --- the login form ---------------------------------------------------------------------------
# Its own site: every attempt moves the clock past the lockout, so no earlier failure
# throttles the next case, and what an attempt wrote is what carries its timestamp.

STAMPED = {
    "rate_events": "SELECT count(*) FROM rate_events WHERE at = ?",
    "used_nonces": "SELECT count(*) FROM used_nonces WHERE used_at = ?",
    "moderator_sessions": "SELECT count(*) FROM moderator_sessions WHERE created_at = ?",
}
# The rest of the board's tables: nothing a refused attempt sends may change them.
CONTENT_TABLES = tuple(table for table in BOARD_TABLES if table not in STAMPED)


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = make_settings(tmp_path_factory.mktemp("hostile-login"))
    with cheap_password_hashing(), pytest.MonkeyPatch.context() as monkeypatch:
        assert add_moderator(monkeypatch, settings, "anna") == 0
        monkeypatch.undo()
        clock = Clock()
        with (
            board_client(settings, clock) as client,
            closing(sqlite3.connect(settings.db_path, isolation_level=None)) as conn,
        ):
            yield Site(client, clock, settings, "", frozenset(), conn)


def login_target(site: Site) -> Target:
    site.clock.advance(site.settings.login_lockout + 1)
    site.client.cookies.clear()
    fields = {
        "token": site.token("login", age=0),
        "nome": "anna",
        "password": PASSWORD,
        "next": "/moderazione/risorse",
    }
    return Target("/moderazione/accesso", fields)


@dataclass(frozen=True)
class LoginExpect:
    status: int
    stamped: dict[str, int]
    location: str | None = None


def login_expect(site: Site, target: Target, fields: dict[str, str]) -> LoginExpect:
    if not token_ok(target, fields):
        return LoginExpect(403, {})
    name = clean_line(fields.get("nome") or "")[:100]
    password = fields.get("password") or ""
    if not (NAME_RE.match(name) and name.lower() == "anna" and password == PASSWORD):
        return LoginExpect(403, {"rate_events": 2, "used_nonces": 1})
    location = safe_next(fields.get("next")) or "/moderazione"
    return LoginExpect(303, {"used_nonces": 1, "moderator_sessions": 1}, location)


def stamped(site: Site) -> dict[str, int]:
    now = int(site.clock())
    found = {table: site.conn.execute(sql, (now,)).fetchone()[0] for table, sql in STAMPED.items()}
    return {table: n for table, n in found.items() if n}


def content_counts(site: Site) -> dict[str, int]:
    values = counts(site.conn)
    return {table: values[table] for table in CONTENT_TABLES}


def send_login(site: Site, field_name: str, case: Hostile) -> None:
    target = login_target(site)
    pairs: list[tuple[Value, Value]] = [
        (k, case if k == field_name else v) for k, v in target.fields.items()
    ]
    body = encode(pairs)
    refusal = form_refusal(body, case, site.settings.max_body_bytes)
    if refusal is not None:
        expect = LoginExpect(refusal, {})
    else:
        assert case.text is not None
        expect = login_expect(site, target, {**target.fields, field_name: case.text})
    before = content_counts(site)
    response = site.post(target.path, body)
    assert_safe_answer(site, response, case, expect.status, cookie_allowed=expect.status == 303)
    assert content_counts(site) == before
    assert stamped(site) == expect.stamped
    hashes = site.conn.execute("SELECT client_hash FROM rate_events").fetchall()
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for (h,) in hashes)  # never the input
    if expect.status == 303:
        assert response.headers["location"] == expect.location
        cookie = response.headers["set-cookie"]
        for part in ("HttpOnly", "Path=/moderazione", "SameSite=strict"):
            assert part in cookie


@pytest.mark.parametrize("field_name", ["token", "nome", "password", "next"])
def test_every_hostile_value_in_every_field_of_the_login_form(gate: Site, field_name: str) -> None:
    failures = []
    for case in HOSTILE:
        try:
            send_login(gate, field_name, case)
        except AssertionError as error:
            failures.append(f"{case.name}: {str(error)[:600]}")
    assert not failures, f"{len(failures)} cases failed:\n" + "\n".join(failures[:15])
    gate.client.cookies.clear()
    assert_healthy(gate.client)


# --- every query parameter of the board's pages ------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[Site, Hostile], str]
    status: Callable[[Site, str], int]  # for a value that passes the URL checks
    session: bool = False  # sent with the moderator's cookie
    location: Callable[[Site, str], str] | None = None  # for a 303: where to


def choice(valid: Callable[[Site], Any]) -> Callable[[Site, str], int]:
    """200 for no value or a known one, 400 for anything else."""
    return lambda site, text: 200 if text == "" or text in valid(site) else 400


def page_status(site: Site, text: str) -> int:
    try:
        number = parse_page(text)
    except PageNumberError:
        return 400
    assert number == 1, "no hostile value is a page number past 1"
    return 200


def search_status(site: Site, text: str) -> int:
    return 400 if len(text.strip()) > MAX_QUERY_CHARS else 200


def first_question(site: Site) -> int:
    return int(
        site.conn.execute("SELECT min(id) FROM questions WHERE state = 'pubblicata'").fetchone()[0]
    )


def login_next(site: Site, text: str) -> str:
    return safe_next(text) or "/moderazione"


PAGES = (
    Page(
        "domande-ordine",
        lambda s, c: f"/domande?ordine={c.query()}",
        choice(lambda s: questions.SORTS),
    ),
    Page("domande-tema", lambda s, c: f"/domande?tema={c.query()}", choice(lambda s: s.topics)),
    Page("domande-page", lambda s, c: f"/domande?page={c.query()}", page_status),
    Page(
        "domande-all",
        lambda s, c: f"/domande?ordine={c.query()}&tema={c.query()}&page={c.query()}",
        lambda s, t: 200 if t == "" else 400,
    ),
    Page("domande-nuova-tema", lambda s, c: f"/domande/nuova?tema={c.query()}", lambda s, t: 200),
    Page(
        "domanda-extra",
        lambda s, c: f"/domande/{first_question(s)}?x={c.query()}",
        lambda s, t: 200,
    ),
    Page(
        "risorse-tipo", lambda s, c: f"/risorse?tipo={c.query()}", choice(lambda s: resources.KINDS)
    ),
    Page("risorse-tema", lambda s, c: f"/risorse?tema={c.query()}", choice(lambda s: s.topics)),
    Page("risorse-page", lambda s, c: f"/risorse?page={c.query()}", page_status),
    Page("pillole-page", lambda s, c: f"/pillole?page={c.query()}", page_status),
    # The one search, over a board with questions in every state.
    Page("cerca-domande-q", lambda s, c: f"/cerca?in=domande&q={c.query()}", search_status),
    Page("cerca-q", lambda s, c: f"/cerca?q={c.query()}", search_status),
    Page("cerca-in", lambda s, c: f"/cerca?q=clima&in={c.query()}", choice(lambda s: SEARCH_KINDS)),
    Page("cerca-in-page", lambda s, c: f"/cerca?q=clima&in=domande&page={c.query()}", page_status),
    Page("registro-page", lambda s, c: f"/moderazione/registro?page={c.query()}", page_status),
    Page(
        "moderazione-stato",
        lambda s, c: f"/moderazione?stato={c.query()}",
        choice(lambda s: QUEUE_VIEWS),
        session=True,
    ),
    Page("moderazione-page", lambda s, c: f"/moderazione?page={c.query()}", page_status, True),
    Page(
        "moderazione-fatto",
        lambda s, c: f"/moderazione/domande/{first_question(s)}?fatto={c.query()}",
        lambda s, t: 200,
        session=True,
    ),
    Page(
        "moderazione-stato-senza-sessione",
        lambda s, c: f"/moderazione?stato={c.query()}",
        lambda s, t: 303,
        location=lambda s, t: "/moderazione/accesso?next=%2Fmoderazione",
    ),
    Page("accesso-next", lambda s, c: f"/moderazione/accesso?next={c.query()}", lambda s, t: 200),
    Page(
        "accesso-next-con-sessione",
        lambda s, c: f"/moderazione/accesso?next={c.query()}",
        lambda s, t: 303,
        session=True,
        location=login_next,
    ),
)


def assert_not_reflected(
    site: Site, page: Page, case: Hostile, response: httpx2.Response, headers: dict[str, str]
) -> None:
    """The value, if it holds ``<`` or ``&``, occurs no more often than in the same page
    asked with a harmless value: stored content (other tests') may hold its text, and
    "&lt;script&gt;" is what a stored "<script>" looks like escaped."""
    value = case.value
    if not isinstance(value, str) or not set("<&") & set(value) or value not in response.text:
        return
    harmless = Hostile("innocuo", "innocuo", "test")
    baseline = site.get(page.url(site, harmless), headers=headers).text
    assert response.text.count(value) <= baseline.count(value), f"unescaped: {value[:80]!r}"


def get_expected(site: Site, page: Page, case: Hostile) -> int:
    url = page.url(site, case)
    if len(url) - url.count("?") > DEFAULT_MAX_URL_BYTES:
        return 414
    if case.refused_in_url:
        return 400
    assert case.text is not None
    return page.status(site, case.text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_hostile_value_in_every_query_parameter(site: Site, page: Page) -> None:
    before = counts(site.conn)
    failures = []
    for full_case in HOSTILE:
        case = full_case.clipped(MAX_CLIENT_URL_BYTES)
        expected = get_expected(site, page, case)
        headers = {} if page.session else {"cookie": "altro=1"}  # no session cookie
        response = site.get(page.url(site, case), headers=headers)
        try:
            assert_safe_answer(site, response, case, expected, escaped=False)
            assert_not_reflected(site, page, case, response, headers)
            if expected == 303 and page.location is not None:
                assert case.text is not None
                assert response.headers["location"] == page.location(site, case.text)
            if page.name == "accesso-next" and expected == 200:
                assert "next" not in hidden_fields(response.text, "/moderazione/accesso")
        except AssertionError as error:
            failures.append(f"{case.name}: {str(error)[:500]}")
    assert not failures, f"{len(failures)} cases failed:\n" + "\n".join(failures[:15])
    assert counts(site.conn) == before
    assert_healthy(site.client)


# --- repeated and missing fields ------------------------------------------------------------

# Fields read with getlist (several checkboxes) may repeat; anteprima is only tested for
# presence. Every other field a form reads is refused when sent twice.
MULTIPLE = {"risorse", "temi", "tipi", "anteprima"}
REPEATED = [
    (form.name, name)
    for form in FORMS.values()
    for name in form.fields
    if name not in MULTIPLE and form.name != "esci"
]


def post_fields(site: Site, target: Target, pairs: list[tuple[str, str]]) -> httpx2.Response:
    return site.post(target.path, encode(list(pairs)))


@pytest.mark.parametrize(
    ("form_name", "field_name"), REPEATED, ids=[f"{f}-{n}" for f, n in REPEATED]
)
def test_a_field_sent_twice_is_refused(site: Site, form_name: str, field_name: str) -> None:
    target = FORMS[form_name].prepare(site)
    value = target.fields.get(field_name, "1")
    pairs = [*target.fields.items(), (field_name, value)]
    before = counts(site.conn)
    response = post_fields(site, target, pairs)
    assert_safe_answer(site, response, None, 400)
    assert "due volte lo stesso campo" in response.text
    assert counts(site.conn) == before


# Each form, each field left out, and the status that gets: the honeypot (sito_web) only
# has to be empty, and a few fields are optional (303), "pillola" needs its address or a
# text.
MISSING_FIELDS = {
    "domanda": {"token": 403, "testo": 422, "nome": 303, "tema": 303, "sito_web": 303},
    "anchio": {"token": 403, "sito_web": 303, "da": 303},
    "ritira-anchio": {"token": 403, "sito_web": 409},
    "iscriviti": {"token": 403, "indirizzo": 422, "scelta": 422, "tipi": 303, "sito_web": 303},
    "gestisci": {"token": 403, "indirizzo": 422, "sito_web": 303},
    "segnala": {"token": 403, "motivo": 422, "sito_web": 303},
    "approva": {"token": 403},
    "ripristina": {"token": 403},
    "respingi": {"token": 403, "motivo_respingi": 422},
    "unisci": {"token": 403, "doppione_di": 422, "motivo_unisci": 422},
    "ritira": {"motivo_ritira": 422},
    "modifica": {"testo": 422, "motivo_modifica": 303},
    "rispondi": {"risposta": 422},
    "pillola": {"titolo": 422, "indirizzo": 422},
    "risorsa-nuova": {
        **dict.fromkeys(("titolo", "indirizzo", "tipo", "fonte", "lingua", "sintesi"), 422),
        "temi": 303,
    },
    "risorsa-modifica": {"indirizzo": 422},
    "redazione-nuova": {
        "token": 403,
        "azione": 400,
        **dict.fromkeys(("title", "body", "kind"), 422),
        **dict.fromkeys(("deadline", "links", "tags", "organisers", "author"), 303),
    },
    # An address left empty is proposed from the title.
    "redazione-modifica": {"revision": 409, "title": 422, "slug": 303, "body": 422},
    "esci": {"token": 403},
}
MISSING = [
    (form, field, status)
    for form, statuses in MISSING_FIELDS.items()
    for field, status in statuses.items()
]


@pytest.mark.parametrize(
    ("form_name", "field_name", "status"), MISSING, ids=[f"{f}-{n}" for f, n, _ in MISSING]
)
def test_a_missing_field_gets_its_status(
    site: Site, form_name: str, field_name: str, status: int
) -> None:
    form = FORMS[form_name]
    target = form.prepare(site)
    fields = {k: v for k, v in target.fields.items() if k != field_name}
    expect = form.expect(site, target, fields)
    assert expect.status == status  # the table and the form's rules agree
    before = counts(site.conn)
    response = post_fields(site, target, list(fields.items()))
    assert_safe_answer(site, response, None, status)
    assert_changes(before, counts(site.conn), **(expect.changes if status == 303 else {}))


@pytest.mark.parametrize("form_name", list(FORMS))
def test_an_empty_body_is_refused_for_its_missing_token(site: Site, form_name: str) -> None:
    target = FORMS[form_name].prepare(site)
    before = counts(site.conn)
    response = site.post(target.path, b"")
    assert_safe_answer(site, response, None, 403)
    assert counts(site.conn) == before


# --- wrong methods and content types ----------------------------------------------------------


def board_routes(site: Site) -> dict[str, set[str]]:
    """Every path of the board (ids filled in) and the methods it answers."""
    qid = first_question(site)
    rid = one(site.conn, "SELECT min(id) FROM resources")[0]
    paths: dict[str, set[str]] = {}
    app = site.client.app.app  # type: ignore[attr-defined]  # inside the ClientAddress wrapper
    for route in app.router.routes:
        if not isinstance(route, Route) or not route.path.startswith(BOARD_PREFIXES):
            continue
        path = route.path.replace("{id:rowid}", str(rid if "risorse" in route.path else qid))
        paths.setdefault(path, set()).update(route.methods or ())
    return paths


BOARD_PREFIXES = ("/domande", "/risorse", "/pillole", "/moderazione")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def test_every_board_path_refuses_the_methods_it_does_not_take(site: Site) -> None:
    routes = board_routes(site)
    assert len(routes) >= 20
    before = counts(site.conn)
    tried = 0
    for path, allowed in routes.items():
        for method in METHODS:
            if method in allowed:
                continue
            response = site.client.request(
                method, path, content=b"token=x&testo=y", headers=FORM, follow_redirects=False
            )
            tried += 1
            assert response.status_code == 405, (method, path, response.status_code)
            # Starlette names the methods of the first route matching the path only (so
            # "GET, HEAD" for /domande/nuova, which also takes POST): never a wrong one.
            named = set(response.headers["allow"].replace(" ", "").split(","))
            assert named and named <= allowed, (path, named, allowed)
    assert tried >= 80
    assert counts(site.conn) == before


WRONG_TYPES = [
    "application/json",
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded; charset=iso-8859-1",
    "application/x-www-form-urlencoded-x",
    "",  # no Content-Type at all
]


@pytest.mark.parametrize("form_name", list(FORMS))
def test_every_form_refuses_other_content_types(site: Site, form_name: str) -> None:
    target = FORMS[form_name].prepare(site)
    body = encode(list(target.fields.items()))  # a valid form, token included
    before = counts(site.conn)
    for content_type in WRONG_TYPES:
        headers = {"content-type": content_type} if content_type else {}
        response = site.client.post(
            target.path,
            content=b'{"token": "x"}' if "json" in content_type else body,
            headers={**site.visitor(), **headers},
            follow_redirects=False,
        )
        assert_safe_answer(site, response, None, 415)
    multipart = site.client.post(
        target.path,
        data=target.fields,
        files={"allegato": ("a.txt", b"x")},
        headers=site.visitor(),
        follow_redirects=False,
    )
    assert_safe_answer(site, multipart, None, 415)
    assert counts(site.conn) == before


# --- tokens: forged, expired, replayed, of another form, too young -------------------------


def forged(token: str) -> str:
    issued, form, nonce, signature = token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    return ".".join((issued, form, nonce, flipped))


def public_tokens(site: Site, form: str, other: str) -> list[tuple[str, str, int]]:
    secret = site.settings.secret_bytes
    now = site.clock()
    max_age = site.settings.token_max_age
    return [
        ("forged signature", forged(site.token(form)), 403),
        ("other secret", security.issue_token(b"another secret", form, now - 10), 403),
        ("expired", site.token(form, age=max_age + 1), 403),
        ("from the future", site.token(form, age=-600), 403),
        ("too young 0 s", site.token(form, age=0), 403),
        ("too young 2 s", site.token(form, age=2), 403),
        ("other form", site.token(other), 403),
        ("bound to a session", site.mod_token(form, session_id=security.new_session_id()), 403),
        ("other nonce", ".".join([*site.token(form).split(".")[:2], "A" * 22, "B" * 43]), 403),
        ("truncated", site.token(form)[:-1], 403),
        ("extra part", site.token(form) + ".x", 403),
        ("oldest still valid", site.token(form, age=max_age), 303),
        ("youngest accepted", site.token(form, age=site.settings.token_min_age), 303),
        ("huge issued time", f"999999999999.{form}.{'A' * 22}.{'A' * 43}", 403),
        ("secret in clear", f"{int(now)}.{form}.{'A' * 22}.{secret.decode()[:43]}", 403),
    ]


@pytest.mark.parametrize("form_name", ["domanda", "anchio", "segnala"])
def test_bad_tokens_on_visitor_forms(site: Site, form_name: str) -> None:
    form = FORMS[form_name]
    failures = []
    for n in range(len(public_tokens(site, "question", "login"))):
        target = form.prepare(site)  # a question and a token of its own for each case
        name = target.fields["token"].split(".")[1]
        other = "question" if name != "question" else "login"
        label, token, status = public_tokens(site, name, other)[n]
        fields = {**target.fields, "token": token}
        before = counts(site.conn)
        response = post_fields(site, target, list(fields.items()))
        try:
            assert_safe_answer(site, response, None, status)
            if status == 303:
                expect = form.expect(site, replace(target, fields=fields), fields)
                assert_changes(before, counts(site.conn), **expect.changes)
            else:
                assert counts(site.conn) == before
        except AssertionError as error:
            failures.append(f"{label}: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("form_name", ["domanda", "anchio", "segnala", "respingi", "risorsa-nuova"])
def test_a_replayed_token_stores_once(site: Site, form_name: str) -> None:
    form = FORMS[form_name]
    target = form.prepare(site)
    body = encode(list(target.fields.items()))
    first = site.post(target.path, body)
    assert_safe_answer(site, first, None, 303)
    before = counts(site.conn)
    again = site.post(target.path, body)
    assert_safe_answer(site, again, None, 409)
    assert "già stato inviato" in again.text
    assert counts(site.conn) == before


@pytest.mark.parametrize("form_name", ["approva", "respingi", "rispondi", "risorsa-nuova", "esci"])
def test_bad_tokens_on_moderator_forms(site: Site, form_name: str) -> None:
    form = FORMS[form_name]
    target = form.prepare(site)
    name = target.fields["token"].split(".")[1]
    other_qid = site.pending()
    max_age = site.settings.session_max_age
    bruno = security.new_session_id()  # another session's binding
    tokens = [
        ("unbound, as on public pages", site.token(name, age=0)),
        ("another session's", site.mod_token(name, session_id=bruno)),
        ("another action's", site.mod_token("mod-ritira-1")),
        ("another question's", site.mod_token(f"mod-approva-{other_qid}")),
        ("expired", site.mod_token(name, age=max_age + 1)),
        ("forged", forged(target.fields["token"])),
        ("other secret", security.issue_token(b"x", name, site.clock(), binding=site.session_id)),
    ]
    before = counts(site.conn)
    for label, token in tokens:
        response = post_fields(site, target, [*{**target.fields, "token": token}.items()])
        assert response.status_code == 403, (label, response.status_code)
        assert_safe_answer(site, response, None, 403)
    assert counts(site.conn) == before
    assert site.get("/moderazione").status_code == 200  # still logged in


def test_bad_tokens_on_the_login_form(gate: Site) -> None:
    failures = []
    for n in range(len(public_tokens(gate, "login", "question"))):
        target = login_target(gate)  # moves the clock: tokens are made after it
        label, token, status = public_tokens(gate, "login", "question")[n]
        if "young" in label or "future" in label:
            continue  # login tokens have no minimum age (moderators are not bots)
        fields = {**target.fields, "token": token}
        response = post_fields(gate, target, list(fields.items()))
        try:
            assert_safe_answer(gate, response, None, status, cookie_allowed=status == 303)
            expected = {} if status == 403 else {"used_nonces": 1, "moderator_sessions": 1}
            assert stamped(gate) == expected
        except AssertionError as error:
            failures.append(f"{label}: {error}")
    assert not failures, "\n".join(failures)
    target = login_target(gate)
    body = encode(list(target.fields.items()))
    assert gate.post(target.path, body).status_code == 303
    gate.client.cookies.clear()
    replayed = gate.post(target.path, body)
    assert_safe_answer(gate, replayed, None, 403)
    assert "già stato inviato" in replayed.text
    gate.client.cookies.clear()


# --- open redirects through next ---------------------------------------------------------------

EVIL_NEXT = [
    "https://evil.example/",
    "http://evil.example/moderazione",
    "HTTPS://EVIL.EXAMPLE",
    "//evil.example",
    "//evil.example/moderazione",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "%2f%2fevil.example",
    "%2F%2Fevil.example%2Fmoderazione",
    "/%2f%2fevil.example",
    "/moderazione/%2f%2fevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "/moderazione@evil.example",
    "/moderazione\\@evil.example",
    "/moderazione//evil.example",
    "/moderazione/../../evil.example",
    "/moderazione/..%2f..%2fevil.example",
    " /moderazione",
    "/moderazione\t/risorse",
    "/moderazione?next=//evil.example",
    "/moderazione#@evil.example",
    "moderazione",
    "evil.example",
    "/moderazione/" + "a" * 300,
    "https:evil.example",
    "/moderazione/\u3002evil.example",
]
GOOD_NEXT = ["/moderazione/risorse", "/moderazione/domande/1", "/moderazione"]


def test_next_never_leaves_the_moderation_pages(site: Site, gate: Site) -> None:
    assert len(EVIL_NEXT) >= 25
    for value in EVIL_NEXT + GOOD_NEXT:
        kept = value if value in GOOD_NEXT else None
        assert safe_next(value) == kept, value
        # The login page keeps no bad next for after the login...
        page = site.get("/moderazione/accesso", params={"next": value}, headers={"cookie": "x=1"})
        sent_on = site.get("/moderazione/accesso", params={"next": value})
        if any(ord(c) < 32 for c in value):  # no URL of greenweb's may hold one: 400
            assert page.status_code == sent_on.status_code == 400
        else:
            assert page.status_code == 200
            assert hidden_fields(page.text, "/moderazione/accesso").get("next") == kept
            assert_inert(site, page.text, None)
            # ...a logged-in moderator is sent on only to a moderation page...
            assert sent_on.status_code == 303
            assert assert_local_redirect(sent_on) == (kept or "/moderazione")
        # ...and so is one who logs in with it.
        target = login_target(gate)
        fields = {**target.fields, "next": value}
        logged_in = post_fields(gate, target, list(fields.items()))
        assert_safe_answer(gate, logged_in, None, 303, cookie_allowed=True)
        assert logged_in.headers["location"] == (kept or "/moderazione")
    gate.client.cookies.clear()


def test_the_way_back_after_login_is_a_local_path(site: Site) -> None:
    for path in ("/moderazione", "/moderazione/risorse", f"/moderazione/domande/{site.pending()}"):
        response = site.get(path, headers={"cookie": "x=1"})
        assert response.status_code == 303
        location = assert_local_redirect(response)
        assert location == "/moderazione/accesso?" + urlencode({"next": path})


# --- moderator pages without a session, and tampered sessions ------------------------------


def moderator_paths(site: Site) -> list[tuple[str, str]]:
    """(method, path) of every moderators-only route, ids filled in."""
    found = []
    for path, methods in board_routes(site).items():
        if not path.startswith("/moderazione") or path in PUBLIC_STAFF_PATHS:
            continue
        found.extend((method, path) for method in ("GET", "POST") if method in methods)
    return found


def assert_locked_out(
    site: Site, cookie: str | None, *, secret_text: str, secret_page: str | None = None
) -> None:
    """Every moderators-only page and action, with this Cookie header: GETs go to the
    login page and show nothing, POSTs are refused, nothing changes."""
    before = counts(site.conn)
    headers = {"cookie": cookie or "altro=1"}
    paths = moderator_paths(site)
    assert len(paths) >= 14
    if secret_page is not None:
        paths.append(("GET", secret_page))
    for method, path in paths:
        if method == "GET":
            response = site.get(path, headers=headers)
            assert response.status_code == 303, (path, response.status_code)
            assert response.headers["location"].startswith("/moderazione/accesso?next=")
            assert response.headers["cache-control"] == "no-store"
        else:
            token = (
                site.mod_token(f"mod-approva-{path.split('/')[3]}") if "/domande/" in path else "x"
            )
            response = site.post(
                path, encode([("token", token), ("motivo_respingi", "x")]), headers
            )
            assert response.status_code == 403, (path, response.status_code)
        assert secret_text not in response.text
        assert "set-cookie" not in response.headers
    assert counts(site.conn) == before


def cookie_of(value: str) -> str:
    return f"{COOKIE}={value}"


def test_moderator_pages_without_a_session_show_nothing(site: Site) -> None:
    secret_text = "SEGRETO IN CODA"
    secret_id = site.pending()
    site.conn.execute("UPDATE questions SET text = ? WHERE id = ?", (secret_text, secret_id))
    page = f"/moderazione/domande/{secret_id}"
    assert secret_text in site.get(page).text  # the moderator sees it
    assert site.get(page, headers={"cookie": "altro=1"}).status_code == 303
    for cookie in (None, cookie_of(""), cookie_of("x"), cookie_of("." * 80), "altro=1"):
        assert_locked_out(site, cookie, secret_text=secret_text, secret_page=page)


def test_a_cookie_with_any_byte_changed_opens_no_session(site: Site) -> None:
    value = site.client.cookies.get(COOKIE, path="/moderazione")
    assert value
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for position, char in enumerate(value):
        changed = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        tampered = value[:position] + changed + value[position + 1 :]
        response = site.get("/moderazione", headers={"cookie": cookie_of(tampered)})
        assert response.status_code == 303, (position, tampered)
    for tampered in (value + "A", value[:-1], value.replace(".", "", 1), value.upper()):
        response = site.get("/moderazione", headers={"cookie": cookie_of(tampered)})
        assert response.status_code == 303, tampered
    assert site.get("/moderazione").status_code == 200  # the real one still works


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Site]:
    """A fresh site with two moderators, anna logged in, for tests that move the clock."""
    with moderated_site(make_settings(tmp_path)) as site:
        yield site


def cookie_after_login(site: Site, name: str) -> str:
    site.client.cookies.clear()
    assert login(site.client, site.clock, name).status_code == 303
    value = site.client.cookies.get(COOKIE, path="/moderazione")
    assert value
    site.client.cookies.clear()
    return value


def test_stale_spliced_and_foreign_sessions_are_refused(
    desk: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = desk.settings.secret_bytes
    anna = cookie_after_login(desk, "anna")
    bruno = cookie_after_login(desk, "bruno")
    anna_id, anna_expires, anna_sig = anna.split(".")
    bruno_id, bruno_expires, bruno_sig = bruno.split(".")
    now = int(desk.clock())

    def opens(value: str) -> bool:
        response = desk.get("/moderazione", headers={"cookie": cookie_of(value)})
        assert response.status_code in {200, 303}
        return response.status_code == 200

    assert opens(anna) and opens(bruno)
    refused = {
        "anna's id, bruno's signature": f"{anna_id}.{bruno_expires}.{bruno_sig}",
        "bruno's id, anna's signature": f"{bruno_id}.{anna_expires}.{anna_sig}",
        "a later expiry, old signature": f"{anna_id}.{int(anna_expires) + 3600}.{anna_sig}",
        "signed, but expired": security.sign_session(secret, anna_id, now - 1),
        "signed with another secret": security.sign_session(b"x", anna_id, now + 3600),
        "an id never issued, signed": security.sign_session(
            secret, security.new_session_id(), now + 3600
        ),
    }
    for label, value in refused.items():
        assert not opens(value), label
    # The database decides too: a cookie re-signed to live longer than its session
    # (as if the secret had leaked) dies with the session.
    longer = security.sign_session(secret, anna_id, now + 10 * 86400)
    assert opens(longer)
    desk.clock.advance(desk.settings.session_max_age + 1)
    assert not opens(longer) and not opens(anna)
    # A removed moderator's session ends at once.
    desk.clock.advance(-desk.settings.session_max_age - 1)
    assert opens(bruno)
    monkeypatch.setenv("GREENWEB_DB", str(desk.settings.db_path))
    monkeypatch.setenv("GREENWEB_SECRET", desk.settings.secret)
    assert cli.main(["moderator", "remove", "bruno"]) == 0
    assert not opens(bruno)
    assert_locked_out(desk, cookie_of(bruno), secret_text=VALID_TEXT)


def test_a_logged_out_session_stays_closed(desk: Site) -> None:
    value = desk.client.cookies.get(COOKIE, path="/moderazione")
    assert value
    page = desk.get("/moderazione")
    token = token_for(page.text, "/moderazione/esci")
    out = desk.client.post("/moderazione/esci", data={"token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert (
        'greenweb_moderazione=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    response = desk.get("/moderazione", headers={"cookie": cookie_of(value)})
    assert response.status_code == 303
    assert one(desk.conn, "SELECT count(*) FROM moderator_sessions") == (0,)


def test_a_token_from_one_moderator_is_refused_in_the_others_session(desk: Site) -> None:
    qid = desk.pending()
    anna_token = desk.mod_token(f"mod-approva-{qid}")
    bruno = cookie_after_login(desk, "bruno")
    before = counts(desk.conn)
    response = desk.post(
        f"/moderazione/domande/{qid}/approva",
        encode([("token", anna_token)]),
        {"cookie": cookie_of(bruno)},
    )
    assert response.status_code == 403
    assert counts(desk.conn) == before
