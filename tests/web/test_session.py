"""The staff's session: it expires, cannot be forged, ends with the account, guards every
staff page by role (one login for both areas, a 403 page for the other role's), and binds
its form tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from greenweb import cli
from greenweb.config import Settings
from greenweb.staff import MODERATORE, REDATTORE
from greenweb.web.session import require_role
from support.board import (
    PASSWORD,
    login,
    publish_directly,
    query,
    row_counts,
    token_for,
)
from support.moderation import (
    Desk,
    area_routes,
    cli_env,
    login_desk,
    moderator_desk,
    staff_desk,
)


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


# --- roles: one login for both areas, and the other area's pages refused -------------------


@pytest.fixture
def editor(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """Editor "lucia" (redattore only) logged in."""
    with staff_desk(settings, monkeypatch, "lucia", REDATTORE) as desk:
        yield desk


def test_an_editor_gets_an_italian_403_on_every_moderation_page(editor: Desk) -> None:
    secret = "SEGRETO in coda"
    publish_directly(editor.settings, state="ricevuta", published_at=None, text=secret)
    routes = area_routes(editor.client, MODERATORE, editor.pending)
    pages = [path for method, path in routes if method == "GET"]
    assert len(pages) >= len(MODERATOR_GETS)
    for path in pages:
        response = editor.client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "Questa pagina è riservata ai moderatori." in response.text
        assert 'href="/redazione"' in response.text  # what she can use instead
        assert response.headers["cache-control"] == "no-store"
        assert secret not in response.text
        assert "set-cookie" not in response.headers


def test_an_editor_gets_403_on_every_moderation_action_and_nothing_changes(
    editor: Desk,
) -> None:
    routes = area_routes(editor.client, MODERATORE, editor.pending)
    actions = [path for method, path in routes if method == "POST"]
    assert len(actions) >= len(MODERATOR_POSTS)
    before = row_counts(editor.settings)
    for path in actions:
        # A token her session could have been given: it is the role that is refused.
        token = editor.token(editor.pending, path.rsplit("/", 1)[1])
        response = editor.client.post(path, data={"token": token, "motivo_respingi": "x"})
        assert response.status_code == 403, path
        assert "Questa azione è riservata ai moderatori." in response.text
        assert response.headers["cache-control"] == "no-store"
    assert row_counts(editor.settings) == before


async def newsroom_probe(request: Request) -> Response:
    """A newsroom page as the newsroom's views guard theirs."""
    member = await require_role(request, REDATTORE)
    if isinstance(member, Response):
        return member
    return PlainTextResponse(f"redazione di {member.name}", headers={"cache-control": "no-store"})


async def cookie_echo(request: Request) -> Response:
    return PlainTextResponse(
        request.headers.get("cookie", ""), headers={"cache-control": "no-store"}
    )


PROBE = "/redazione/prova"
AREA_COOKIES = ["greenweb_moderazione", "greenweb_redazione"]


def with_probes(desk: Desk) -> Desk:
    """``desk`` with a newsroom page at PROBE and a public page that says what cookies it got."""
    app = desk.client.app.app  # type: ignore[attr-defined]  # inside the ClientAddress wrapper
    app.router.routes.insert(0, Route(PROBE, newsroom_probe, methods=["GET", "POST"]))
    app.router.routes.insert(0, Route("/eco", cookie_echo))
    return desk


def login_to(desk: Desk, name: str, next_url: str | None) -> Any:
    page = desk.client.get("/moderazione/accesso")
    fields = {"token": token_for(page.text, "/moderazione/accesso"), "nome": name}
    fields.update({"password": PASSWORD, **({"next": next_url} if next_url else {})})
    return desk.client.post("/moderazione/accesso", data=fields, follow_redirects=False)


@pytest.fixture
def both(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """ "marco", moderator and editor, logged in; the newsroom probes in place."""
    with staff_desk(settings, monkeypatch, "marco", MODERATORE, REDATTORE) as desk:
        yield with_probes(desk)


def test_one_login_opens_both_areas_for_an_account_with_both_roles(both: Desk) -> None:
    queue = both.client.get("/moderazione")
    assert queue.status_code == 200 and 'href="/moderazione/risorse"' in queue.text
    newsroom = both.client.get(PROBE)
    assert newsroom.status_code == 200 and newsroom.text == "redazione di marco"


def test_the_session_goes_out_to_each_staff_area_and_to_no_public_page(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with login_desk(settings, monkeypatch) as desk:
        response = login_to(with_probes(desk), "anna", None)
        cookies = response.headers.get_list("set-cookie")
        assert [c.split("=", 1)[0] for c in cookies] == [
            "greenweb_moderazione",
            "greenweb_redazione",
        ]
        values = {c.split(";", 1)[0].split("=", 1)[1] for c in cookies}
        assert len(values) == 1  # one session
        for cookie, path in zip(cookies, ("/moderazione", "/redazione"), strict=True):
            for part in ("HttpOnly", "Max-Age=28800", f"Path={path}", "SameSite=strict"):
                assert part in cookie
        assert query(settings, "SELECT count(*) FROM moderator_sessions") == [(1,)]
        assert desk.client.get("/eco").text == ""


def test_an_anonymous_visitor_goes_to_the_login_and_back_to_the_newsroom(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with staff_desk(settings, monkeypatch, "lucia", REDATTORE) as desk:
        with_probes(desk).client.cookies.clear()
        sent = desk.client.get(PROBE, follow_redirects=False)
        assert sent.status_code == 303
        assert sent.headers["location"] == "/moderazione/accesso?next=%2Fredazione%2Fprova"
        assert sent.headers["cache-control"] == "no-store"
        refused = desk.client.post(PROBE, data={"token": "x"})
        assert refused.status_code == 403
        assert "Questa azione è riservata alla redazione: accedi e riprova." in refused.text
        back = login_to(desk, "lucia", PROBE)
        assert back.headers["location"] == PROBE
        assert desk.client.get(PROBE).text == "redazione di lucia"


def test_a_moderator_gets_an_italian_403_in_the_newsroom(desk: Desk) -> None:
    with_probes(desk)
    page = desk.client.get(PROBE, follow_redirects=False)
    assert page.status_code == 403
    assert "Questa pagina è riservata alla redazione." in page.text
    assert 'href="/moderazione"' in page.text  # the queue: what she can use
    assert page.headers["cache-control"] == "no-store"
    action = desk.client.post(PROBE, data={"token": "x"})
    assert action.status_code == 403
    assert "Questa azione è riservata alla redazione." in action.text


def test_a_moderator_gets_403_on_every_newsroom_page_and_action(desk: Desk) -> None:
    # Every route under /redazione, as the app lists them (the probe among them), so a
    # newsroom page that forgets its guard fails here.
    with_probes(desk)
    routes = area_routes(desk.client, REDATTORE, 1)
    assert ("GET", PROBE) in routes
    before = row_counts(desk.settings)
    for method, path in routes:
        response = desk.client.request(
            method, path, data=None if method == "GET" else {"token": "x"}
        )
        assert response.status_code == 403, (method, path)
        assert "è riservata alla redazione." in response.text
    assert row_counts(desk.settings) == before


@pytest.mark.parametrize(
    ("roles", "next_url", "location"),
    [
        ((MODERATORE,), None, "/moderazione"),
        ((REDATTORE,), None, "/redazione"),
        ((MODERATORE, REDATTORE), None, "/moderazione"),
        ((REDATTORE,), "/redazione/voci/3", "/redazione/voci/3"),
        ((MODERATORE, REDATTORE), "/redazione/voci", "/redazione/voci"),
        ((MODERATORE,), "/moderazione/risorse", "/moderazione/risorse"),
        # Never to a page the account would be refused: that reads as a failed login.
        ((REDATTORE,), "/moderazione/risorse", "/redazione"),
        ((MODERATORE,), "/redazione/voci", "/moderazione"),
        ((REDATTORE,), "//evil.example/redazione", "/redazione"),
        ((REDATTORE,), "/redazione/../moderazione", "/redazione"),
    ],
)
def test_login_lands_on_a_page_the_account_may_use(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    roles: tuple[str, ...],
    next_url: str | None,
    location: str,
) -> None:
    with staff_desk(settings, monkeypatch, "marco", *roles) as desk:
        desk.client.cookies.clear()
        assert login_to(desk, "marco", next_url).headers["location"] == location
        # Logged in, the login page sends the account to the same place.
        again = desk.client.get(
            "/moderazione/accesso", params={"next": next_url or ""}, follow_redirects=False
        )
        assert again.headers["location"] == location


def test_an_editor_sent_to_a_moderation_page_ends_on_its_403_not_in_a_loop(
    editor: Desk,
) -> None:
    editor.client.cookies.clear()
    login_to(editor, "lucia", None)
    response = editor.client.get("/moderazione/domande/1")  # following every redirect
    assert response.status_code == 403
    assert "Questa pagina è riservata ai moderatori." in response.text


def staff_nav(page: str) -> str:
    start = page.index('<nav aria-label="Area riservata"')
    return page[start : page.index("</nav>", start)]


def test_the_staff_navigation_shows_the_board_only_to_moderators(desk: Desk, editor: Desk) -> None:
    moderator_nav = staff_nav(desk.client.get("/moderazione").text)
    editor_nav = staff_nav(editor.client.get("/moderazione").text)
    for link in ("/moderazione/risorse", "/moderazione/registro"):
        assert f'href="{link}"' in moderator_nav
        assert f'href="{link}"' not in editor_nav
    for page in (moderator_nav, editor_nav):
        assert 'action="/moderazione/esci"' in page  # every account can log out


def test_a_change_of_roles_holds_from_the_next_page(
    editor: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_probes(editor)
    assert editor.client.get("/moderazione", follow_redirects=False).status_code == 403
    cli_env(monkeypatch, editor.settings)
    assert cli.main(["staff", "roles", "lucia", "moderatore"]) == 0
    assert editor.client.get("/moderazione").status_code == 200
    assert editor.client.get(PROBE).status_code == 403


def test_logging_out_ends_the_session_in_both_areas(both: Desk) -> None:
    newsroom_cookie = both.client.cookies.get("greenweb_redazione")
    token = token_for(both.page("/moderazione"), "/moderazione/esci")
    out = both.client.post("/moderazione/esci", data={"token": token}, follow_redirects=False)
    deleted = out.headers.get_list("set-cookie")
    assert [c.split("=", 1)[0] for c in deleted] == AREA_COOKIES
    assert all("Max-Age=0" in c for c in deleted)
    both.client.cookies.clear()
    both.client.cookies.set("greenweb_redazione", newsroom_cookie or "", path="/redazione")
    assert both.client.get(PROBE, follow_redirects=False).status_code == 303
