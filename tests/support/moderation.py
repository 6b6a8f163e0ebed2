"""The moderators' desk for tests: a client, the clock, and (logged in) a question waiting
for moderation and a published one."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from greenweb import security
from greenweb.config import Settings
from support.board import (
    Clock,
    add_moderator,
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
