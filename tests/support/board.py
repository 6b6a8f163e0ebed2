"""Helpers for the question board's tests: a movable clock, client addresses per request,
form tokens out of pages, row counts, page weight and DOM size."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import brotli
import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from greenweb import cli, security
from greenweb.board import search_entries
from greenweb.config import Settings
from greenweb.db import connect
from greenweb.web.app import create_app

# The tables the question board owns: a refused form must leave every count as it was.
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

T0 = 1_630_742_400.0  # 2021-09-04 08:00 UTC, the seed bulletin's "today"
CLIENT_HEADER = "x-test-client"
PASSWORD = "una password lunga"


class Clock:
    """Unix time that moves only when a test says so."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ClientAddress:
    """Sets ``scope["client"]`` from a test header, so one TestClient can act as many
    visitors (the header is removed before the app sees the request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k != CLIENT_HEADER.encode()]
            for key, value in scope["headers"]:
                if key == CLIENT_HEADER.encode():
                    scope = {**scope, "client": (value.decode(), 40000), "headers": headers}
        await self.app(scope, receive, send)


def as_client(address: str) -> dict[str, str]:
    return {CLIENT_HEADER: address}


@contextmanager
def board_client(settings: Settings, clock: Clock | None = None) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock or Clock())
    wrapped = ClientAddress(app)
    with TestClient(wrapped, base_url="http://testserver") as client:
        yield client


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.tokens: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values.get("action")
        elif tag == "input" and values.get("name") == "token" and self.action:
            self.tokens[self.action] = values.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.action = None


def tokens_in(html: str) -> dict[str, str]:
    """{form action: token} of every form on a page."""
    parser = _Forms()
    parser.feed(html)
    return parser.tokens


def token_for(html: str, action: str) -> str:
    found = tokens_in(html)
    assert action in found, f"no form posting to {action} (forms: {sorted(found)})"
    return found[action]


def row_counts(settings: Settings) -> dict[str, int]:
    with sqlite3.connect(settings.db_path) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in BOARD_TABLES
        }
        counts["content_version"] = conn.execute("SELECT version FROM content_version").fetchone()[
            0
        ]
    return counts


def query(settings: Settings, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


def count_and_rows(settings: Settings, question_id: int) -> tuple[int, int]:
    """A question's "anch'io" count and its votes rows: the two must always agree."""
    ((me_too, rows),) = query(
        settings,
        "SELECT me_too, (SELECT count(*) FROM votes WHERE question_id = q.id) "
        "FROM questions q WHERE id = ?",
        (question_id,),
    )
    return me_too, rows


def brotli_size(body: bytes) -> int:
    return len(brotli.compress(body, quality=11))


class _Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1


def dom_elements(html: str) -> int:
    counter = _Counter()
    counter.feed(html)
    return counter.elements


@contextmanager
def cheap_password_hashing() -> Iterator[None]:
    """argon2 with tiny parameters: the real ones cost a quarter second per login."""
    previous = security.configure_password_hashing(
        PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    )
    try:
        yield
    finally:
        security.configure_password_hashing(previous)


def with_password(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, argv: list[str], password: str
) -> int:
    """`greenweb ARGV` with the password on stdin, as a script would."""
    monkeypatch.setenv("GREENWEB_DB", str(settings.db_path))
    monkeypatch.setenv("GREENWEB_SECRET", settings.secret)
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return cli.main(argv)


def add_moderator(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    name: str = "anna",
    password: str = PASSWORD,
) -> int:
    """`greenweb moderator add NAME` with the password on stdin, as a script would."""
    return with_password(monkeypatch, settings, ["moderator", "add", name], password)


def add_staff(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    name: str,
    *roles: str,
    password: str = PASSWORD,
) -> int:
    """`greenweb staff add NAME --role ROLE...` with the password on stdin."""
    argv = ["staff", "add", name, *(f"--role={role}" for role in roles)]
    return with_password(monkeypatch, settings, argv, password)


def login(client: TestClient, clock: Clock, name: str = "anna", password: str = PASSWORD) -> Any:
    page = client.get("/moderazione/accesso")
    clock.advance(5)
    return client.post(
        "/moderazione/accesso",
        data={
            "token": token_for(page.text, "/moderazione/accesso"),
            "nome": name,
            "password": password,
        },
        follow_redirects=False,
    )


def ask(
    client: TestClient,
    clock: Clock,
    text: str = "Perché d'estate fa sempre più caldo anche a Torino?",
    headers: dict[str, str] | None = None,
    **fields: str,
) -> Any:
    """Open the question form, wait like a person, send a question."""
    page = client.get("/domande/nuova", headers=headers)
    clock.advance(10)
    data = {"token": token_for(page.text, "/domande/nuova"), "testo": text, "sito_web": ""}
    data.update(fields)
    return client.post("/domande/nuova", data=data, headers=headers, follow_redirects=False)


def publish_directly(settings: Settings, count: int = 1, **columns: Any) -> list[int]:
    """Insert published questions with SQL (fixtures that need no moderation flow)."""
    ids = []
    with sqlite3.connect(settings.db_path) as conn:
        for n in range(count):
            values = {
                "text": f"Domanda pubblicata numero {n}: il clima cambia davvero?",
                "state": "pubblicata",
                "created_at": int(T0) - 1000 + n,
                "published_at": int(T0) - 1000 + n,
                "updated_at": int(T0) - 1000 + n,
            }
            values.update(columns)
            names = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            cursor = conn.execute(
                f"INSERT INTO questions ({names}) VALUES ({marks})", list(values.values())
            )
            assert cursor.lastrowid is not None
            ids.append(cursor.lastrowid)
    index_board(settings.db_path)
    return ids


def index_board(db_path: Path) -> None:
    """Rebuild the board's search entries of a database that a fixture wrote with SQL."""

    async def rebuild() -> None:
        conn = await connect(db_path)
        try:
            await conn.execute("BEGIN IMMEDIATE")
            await search_entries.rebuild(conn)
            await conn.execute("COMMIT")
        finally:
            await conn.close()

    # In a thread of its own: the browser suite's driver keeps an event loop running in
    # the main thread, where asyncio.run() refuses to start.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, rebuild()).result()


def db_text(settings: Settings) -> str:
    """Every value of the database as text (to look for what must not be stored)."""
    with sqlite3.connect(settings.db_path) as conn:
        return "\n".join(conn.iterdump())


def data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data"
