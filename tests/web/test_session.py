"""The moderators' session: it expires, cannot be forged, ends with the moderator, guards
every moderator page, and binds its form tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from greenweb import cli
from greenweb.config import Settings
from support.board import (
    login,
    publish_directly,
    query,
    row_counts,
    token_for,
)
from support.moderation import Desk, cli_env, moderator_desk


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with moderator_desk(settings, monkeypatch) as desk:
        yield desk


def test_session_expires_after_eight_hours(desk: Desk) -> None:
    assert desk.client.get("/moderazione").status_code == 200
    desk.clock.advance(8 * 3600 - 10)
    assert desk.client.get("/moderazione").status_code == 200
    desk.clock.advance(11)
    assert desk.client.get("/moderazione", follow_redirects=False).status_code == 303


def test_tampered_cookie_gives_no_data(desk: Desk) -> None:
    value = desk.client.cookies.get("greenweb_moderazione", path="/moderazione")
    assert value
    desk.client.cookies.clear()
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    desk.client.cookies.set("greenweb_moderazione", forged, path="/moderazione")
    response = desk.client.get("/moderazione", follow_redirects=False)
    assert response.status_code == 303
    assert "Domanda pubblicata numero" not in response.text


def test_removing_a_moderator_ends_their_session(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env(monkeypatch, desk.settings)
    assert cli.main(["moderator", "remove", "anna"]) == 0
    assert desk.client.get("/moderazione", follow_redirects=False).status_code == 303


MODERATOR_GETS = [
    "/moderazione",
    "/moderazione/domande/1",
    "/moderazione/risorse",
    "/moderazione/risorse/nuova",
    "/moderazione/risorse/1",
]


MODERATOR_POSTS = [
    f"/moderazione/domande/1/{action}"
    for action in ("approva", "respingi", "ritira", "ripristina", "modifica", "rispondi", "pillola")
] + ["/moderazione/risorse/nuova", "/moderazione/risorse/1"]


@pytest.mark.parametrize("path", MODERATOR_GETS)
def test_moderator_pages_without_a_session_redirect_to_login(desk: Desk, path: str) -> None:
    desk.client.cookies.clear()
    publish_directly(desk.settings, state="ricevuta", published_at=None, text="SEGRETO in coda")
    response = desk.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/moderazione/accesso?next=")
    assert response.headers["cache-control"] == "no-store"
    assert "SEGRETO" not in response.text


@pytest.mark.parametrize("path", MODERATOR_POSTS)
def test_moderator_actions_without_a_session_are_forbidden(desk: Desk, path: str) -> None:
    desk.client.cookies.clear()
    publish_directly(desk.settings, state="ricevuta", published_at=None)
    before = row_counts(desk.settings)
    response = desk.client.post(path, data={"token": "x", "motivo_respingi": "x"})
    assert response.status_code == 403
    assert row_counts(desk.settings) == before


def test_token_from_another_session_is_refused(desk: Desk) -> None:
    base = f"/moderazione/domande/{desk.pending}"
    token = token_for(desk.page(base), f"{base}/approva")
    # Log in again: a new session, so the old page's token no longer matches.
    desk.client.cookies.clear()
    assert login(desk.client, desk.clock).status_code == 303
    before = row_counts(desk.settings)
    response = desk.client.post(f"{base}/approva", data={"token": token})
    assert response.status_code == 403
    assert row_counts(desk.settings) == before


def test_moderation_post_from_another_site_is_refused(desk: Desk) -> None:
    base = f"/moderazione/domande/{desk.pending}"
    token = token_for(desk.page(base), f"{base}/approva")
    response = desk.client.post(
        f"{base}/approva", data={"token": token}, headers={"sec-fetch-site": "cross-site"}
    )
    assert response.status_code == 403
    assert query(desk.settings, "SELECT state FROM questions WHERE id = ?", (desk.pending,)) == [
        ("ricevuta",)
    ]
