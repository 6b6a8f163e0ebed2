"""Login and logout: the same answer for a wrong password and an unknown name, a strict
session cookie, no open redirect, and a throttle that brute force sent at once meets as
surely as guesses sent one by one, never asking for an absurd wait."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from greenweb import security
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.web.app import create_app
from support import make_settings
from support.board import (
    PASSWORD,
    T0,
    Clock,
    add_moderator,
    as_client,
    board_client,
    cheap_password_hashing,
    login,
    query,
    token_for,
)
from support.moderation import Desk, login_desk, moderator_desk

LOGIN = "/moderazione/accesso"


@pytest.fixture(autouse=True)
def _cheap_argon2() -> Iterator[None]:
    with cheap_password_hashing():
        yield


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with moderator_desk(settings, monkeypatch) as desk:
        yield desk


@pytest.fixture
def gate(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with login_desk(settings, monkeypatch) as desk:
        yield desk


def attempt(
    client: TestClient, password: str, name: str = "anna", address: str = "192.0.2.50"
) -> Any:
    """One login from ``address``: the form fetched, then sent."""
    headers = as_client(address)
    page = client.get(LOGIN, headers=headers)
    fields = {"token": token_for(page.text, LOGIN), "nome": name, "password": password}
    return client.post(LOGIN, data=fields, headers=headers, follow_redirects=False)


def test_wrong_password_and_unknown_name_get_the_same_answer(gate: Desk) -> None:
    wrong = attempt(gate.client, "sbagliata sbagliata")
    gate.clock.advance(60)
    unknown = attempt(gate.client, PASSWORD, name="nessuno")
    for response in (wrong, unknown):
        assert response.status_code == 403
        assert "Nome o password non corretti." in response.text
        assert "set-cookie" not in response.headers
        assert response.headers["cache-control"] == "no-store"


def test_failed_logins_slow_down_then_lock_out_per_client_and_per_name(gate: Desk) -> None:
    assert attempt(gate.client, "sbagliata 1").status_code == 403
    hurried = attempt(gate.client, PASSWORD)
    assert hurried.status_code == 429
    assert hurried.headers["retry-after"] == "1"
    for n in range(2, 6):
        gate.clock.advance(20)
        assert attempt(gate.client, f"sbagliata {n}").status_code == 403
    gate.clock.advance(20)
    locked = attempt(gate.client, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert "Troppi tentativi di accesso" in locked.text
    assert 700 < int(locked.headers["retry-after"]) <= 900
    assert "set-cookie" not in locked.headers
    # The same name from elsewhere, and another name from here, are locked too.
    assert attempt(gate.client, PASSWORD, address="198.51.100.1").status_code == 429
    assert attempt(gate.client, PASSWORD, name="bruno").status_code == 429
    gate.clock.advance(900)
    assert attempt(gate.client, PASSWORD).status_code == 303


def test_successful_login_sets_a_strict_session_cookie(gate: Desk) -> None:
    response = attempt(gate.client, PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("greenweb_moderazione=")
    for part in ("HttpOnly", "Max-Age=28800", "Path=/moderazione", "SameSite=strict"):
        assert part in cookie
    assert query(gate.settings, "SELECT count(*) FROM moderator_sessions") == [(1,)]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert value not in str(query(gate.settings, "SELECT * FROM moderator_sessions"))


def test_cookie_is_secure_when_the_site_is_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, base_url="https://greenweb.example")
    assert add_moderator(monkeypatch, settings) == 0
    clock = Clock()
    with board_client(settings, clock) as client:
        response = login(client, clock)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_login_page_sends_a_logged_in_moderator_on(desk: Desk) -> None:
    response = desk.client.get("/moderazione/accesso", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/moderazione"


@pytest.mark.parametrize(
    ("next_value", "location"),
    [
        ("/moderazione/domande/1", "/moderazione/domande/1"),
        ("//evil.example/moderazione", "/moderazione"),
        ("https://evil.example/", "/moderazione"),
        ("/moderazione/../domande", "/moderazione"),
        ("/moderazione\\@evil.example", "/moderazione"),
        ("/domande", "/moderazione"),
    ],
)
def test_login_goes_back_only_to_moderation_pages(
    gate: Desk, next_value: str, location: str
) -> None:
    page = gate.client.get("/moderazione/accesso", params={"next": next_value})
    response = gate.client.post(
        "/moderazione/accesso",
        data={
            "token": token_for(page.text, "/moderazione/accesso"),
            "nome": "anna",
            "password": PASSWORD,
            "next": next_value,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == location


def test_logout_needs_the_session_token(desk: Desk) -> None:
    refused = desk.client.post("/moderazione/esci", data={"token": "x"})
    assert refused.status_code == 403
    assert query(desk.settings, "SELECT count(*) FROM moderator_sessions") == [(1,)]


# --- the throttle under concurrent attempts ------------------------------------------------


def failures_recorded(settings: Settings) -> int:
    with closing(sqlite3.connect(settings.db_path)) as conn:
        row = conn.execute("SELECT count(*) FROM rate_events WHERE action = 'login-failure'")
        return int(row.fetchone()[0])


def concurrent_logins(
    settings: Settings, passwords: list[str], *, clients: list[str] | None = None
) -> Counter[int]:
    """Fetch one login form per password, then send every attempt at once."""
    clock = Clock()
    app = create_app(settings, clock=clock)

    async def main() -> Counter[int]:
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app, client=("192.0.2.7", 50000))
            async with httpx2.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                tokens = []
                for _ in passwords:
                    page = await client.get("/moderazione/accesso")
                    tokens.append(token_for(page.text, "/moderazione/accesso"))
                clock.advance(5)
                answers = await asyncio.gather(
                    *[
                        client.post(
                            "/moderazione/accesso",
                            data={"token": token, "nome": "anna", "password": password},
                        )
                        for token, password in zip(tokens, passwords, strict=True)
                    ]
                )
        return Counter(answer.status_code for answer in answers)

    return asyncio.run(main())


def test_thirty_guesses_sent_at_once_get_one_password_check(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The throttle used to be read on the reader connection before argon2 ran in a
    # thread, and the failure written afterwards: every one of 30 parallel guesses passed
    # the check before any was counted, and all 30 passwords were tried.
    assert add_moderator(monkeypatch, settings) == 0
    statuses = concurrent_logins(settings, [f"sbagliata {n}" for n in range(30)])
    assert statuses == Counter({403: 1, 429: 29})
    assert failures_recorded(settings) == 2  # one attempt: its client and its name


def test_the_right_password_among_parallel_guesses_waits_its_turn(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert add_moderator(monkeypatch, settings) == 0
    statuses = concurrent_logins(settings, [*(f"sbagliata {n}" for n in range(9)), PASSWORD])
    # One attempt is checked; the others are told to wait, the right one included (it
    # may be the one checked: then it logs in and clears the failures).
    assert sum(statuses.values()) == 10
    assert statuses[429] == 9
    assert statuses[403] + statuses[303] == 1


def test_the_wait_between_failures_never_passes_the_lockout(tmp_path: Path) -> None:
    # Failures one at a time cannot pile up past the lockout (each waits for the last), but
    # failures recorded together could, and 2**19 seconds is no answer for a login page.
    async def work() -> int | None:
        db = Database(tmp_path / "throttle.db")
        await db.open()
        try:
            async with db.transaction() as conn:
                for _ in range(20):
                    await security.record_login_failure(conn, ["anna"], T0, lockout=900)
            return await security.login_retry_after(
                db.reader, ["anna"], T0, max_failures=100, lockout=900
            )
        finally:
            await db.close()

    assert asyncio.run(work()) == 900


def test_lockout_holds_per_name_across_clients_and_per_client_across_names(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert add_moderator(monkeypatch, settings) == 0
    assert add_moderator(monkeypatch, settings, "bruno") == 0
    clock = Clock()

    with board_client(settings, clock) as client:

        def status(name: str, password: str, address: str) -> int:
            client.cookies.clear()  # a login that worked leaves no session for the next one
            return int(attempt(client, password, name, address).status_code)

        # Five wrong passwords for anna from five addresses: anna is locked everywhere.
        for n in range(5):
            assert status("anna", f"sbagliata {n}", f"198.51.100.{n}") == 403
            clock.advance(20)
        assert status("anna", PASSWORD, "198.51.100.99") == 429
        # Bruno is not: the lock is on the name, and these addresses failed only once.
        assert status("bruno", PASSWORD, "198.51.100.98") == 303
        # Five wrong names from one address: that address is locked for every name.
        for n in range(5):
            assert status(f"nessuno{n}", "sbagliata", "203.0.113.5") == 403
            clock.advance(20)
        assert status("bruno", PASSWORD, "203.0.113.5") == 429
        clock.advance(901)
        assert status("anna", PASSWORD, "198.51.100.99") == 303
