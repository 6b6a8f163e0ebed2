"""The staff's desk for tests: a client, the clock, and (logged in) a question waiting
for moderation and a published one; and the routes of each staff area."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb import security
from greenweb.config import Settings
from greenweb.web.session import AREAS
from support.board import (
    Clock,
    add_moderator,
    add_staff,
    board_client,
    cheap_password_hashing,
    login,
    publish_directly,
    token_for,
)


@dataclass
class Desk:
    client: TestClient
    clock: Clock
    settings: Settings
    pending: int
    public: int

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.text[-300:]
        return response.text

    def act(self, question_id: int, action: str, **fields: Any) -> Any:
        base = f"/moderazione/domande/{question_id}"
        token = token_for(self.page(base), f"{base}/{action}")
        return self.client.post(
            f"{base}/{action}", data={"token": token, **fields}, follow_redirects=False
        )

    def token(self, question_id: int, action: str) -> str:
        """A valid token for ``action`` on the question, as its page would have issued."""
        session = self.client.cookies.get("greenweb_moderazione", path="/moderazione")
        assert session
        session_id = session.split(".")[0]
        form = f"mod-{action}-{question_id}"
        return security.issue_token(
            self.settings.secret_bytes, form, self.clock(), binding=session_id
        )


@contextmanager
def moderator_desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """Moderator "anna" logged in, one question pending and one published."""
    with login_desk(settings, monkeypatch) as desk:
        desk.pending = publish_directly(settings, state="ricevuta", published_at=None)[0]
        desk.public = publish_directly(settings)[0]
        assert login(desk.client, desk.clock).status_code == 303
        yield desk


@contextmanager
def staff_desk(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, name: str, *roles: str
) -> Iterator[Desk]:
    """Staff account ``name`` holding ``roles`` logged in, one question pending and one
    published (cheap argon2 meanwhile)."""
    with cheap_password_hashing():
        assert add_staff(monkeypatch, settings, name, *roles) == 0
        pending = publish_directly(settings, state="ricevuta", published_at=None)[0]
        public = publish_directly(settings)[0]
        clock = Clock()
        with board_client(settings, clock) as client:
            assert login(client, clock, name).status_code == 303
            yield Desk(client, clock, settings, pending, public)


PATH_PARAM = re.compile(r"\{[^}]+\}")  # {id:rowid}, {number:int}, {slug}
# Pages under a staff area's prefix that anyone may open: the way in and out, the public log.
PUBLIC_STAFF_PATHS = frozenset(
    {"/moderazione/accesso", "/moderazione/esci", "/moderazione/registro"}
)


def area_routes(client: TestClient, role: str, row_id: int) -> list[tuple[str, str]]:
    """(method, path) of every route of the area ``role`` opens, as the app lists them (so
    a route added later is in the list too), ``row_id`` in the place of every path
    parameter (the guard answers before any handler looks the row up)."""
    app = client.app.app  # type: ignore[attr-defined]  # inside the ClientAddress wrapper
    prefix = AREAS[role].prefix
    found = []
    for route in app.router.routes:
        if not isinstance(route, Route) or route.path in PUBLIC_STAFF_PATHS:
            continue
        if route.path == prefix or route.path.startswith(prefix + "/"):
            path = PATH_PARAM.sub(str(row_id), route.path)
            found.extend((m, path) for m in ("GET", "POST") if m in (route.methods or ()))
    return found


@contextmanager
def login_desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """Moderator "anna" exists; nobody is logged in and there are no questions.

    Passwords are hashed with cheap argon2 parameters meanwhile.
    """
    with cheap_password_hashing():
        assert add_moderator(monkeypatch, settings) == 0
        clock = Clock()
        with board_client(settings, clock) as client:
            yield Desk(client, clock, settings, 0, 0)


def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, stdin: str = "") -> None:
    """The environment `greenweb` reads, for ``cli.main`` on this database."""
    monkeypatch.setenv("GREENWEB_DB", str(settings.db_path))
    monkeypatch.setenv("GREENWEB_SECRET", settings.secret)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
