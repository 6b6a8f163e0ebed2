"""/redazione over HTTP: an editor previews, saves, publishes, edits, schedules and
withdraws; visitors see each step on the public pages and feeds; bad input stores nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from greenweb.config import Settings
from greenweb.staff import REDATTORE
from support.board import (
    Clock,
    add_staff,
    board_client,
    cheap_password_hashing,
    login,
    query,
    row_counts,
    token_for,
)
from support.moderation import Desk, staff_desk

NEW = "/redazione/nuova"


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """Editor "bea" logged in."""
    with staff_desk(settings, monkeypatch, "bea", REDATTORE) as desk:
        yield desk


def fields(**changes: str) -> dict[str, str]:
    values = {
        "title": "Bando per le reti di quartiere",
        "slug": "reti-di-quartiere",
        "kind": "bando",
        "deadline": "2021-10-31",
        "organisers": "Comune di Torino",
        "amount_max": "5000",
        "links": "https://example.org/reti",
        "tags": "reti, quartieri",
        "body": "Un bando per le **reti** di quartiere.\n\nSecondo paragrafo.",
    }
    values.update(changes)
    return values


def submit(desk: Desk, path: str, action: str, **changes: str) -> Any:
    page = desk.page(path)
    data = {"token": token_for(page, path), "azione": action, **fields(**changes)}
    revision = re.search(r'name="revision" value="(\d+)"', page)
    if revision:
        data["revision"] = revision.group(1)
    desk.clock.advance(1)
    return desk.client.post(path, data=data, follow_redirects=False)


def item_path(response: Any) -> str:
    assert response.status_code == 303, response.text[-400:]
    return response.headers["location"].split("?")[0]


def public(desk: Desk, path: str) -> Any:
    # As a visitor: the staff cookie is sent to the staff areas only.
    response = desk.client.get(path)
    assert "cookie" not in response.request.headers
    return response


def test_the_preview_shows_the_item_page_and_saves_nothing(desk: Desk) -> None:
    before = row_counts(desk.settings)
    response = submit(desk, NEW, "anteprima")
    assert response.status_code == 200
    assert "Anteprima: nulla è stato salvato" in response.text
    assert "<strong>reti</strong>" in response.text
    assert "In breve" in response.text  # the key-facts box
    assert 'value="Bando per le reti di quartiere"' in response.text
    assert row_counts(desk.settings) == before


def test_a_draft_is_saved_and_stays_off_the_public_pages(desk: Desk) -> None:
    path = item_path(submit(desk, NEW, "bozza"))
    assert "Bozza salvata." in desk.client.get(path + "?fatto=bozza").text
    assert public(desk, "/bollettino/reti-di-quartiere").status_code == 404
    assert "reti-di-quartiere" not in public(desk, "/bollettino").text
    assert "Bando per le reti" in desk.page("/redazione?stato=bozze")


def test_published_item_reaches_the_pages_the_feed_and_the_calendar(desk: Desk) -> None:
    submit(desk, NEW, "pubblica")
    assert public(desk, "/bollettino/reti-di-quartiere").status_code == 200
    assert "Bando per le reti di quartiere" in public(desk, "/bollettino").text
    assert "Bando per le reti di quartiere" in public(desk, "/feed.xml").text
    assert "Bando per le reti di quartiere" in public(desk, "/calendario.ics").text
    assert "reti-di-quartiere" in public(desk, "/sitemap.xml").text
    assert "reti-di-quartiere" in public(desk, "/cerca?q=quartiere").text


def test_an_edit_is_public_at_once_and_its_revision_is_kept(desk: Desk) -> None:
    path = item_path(submit(desk, NEW, "pubblica"))
    assert public(desk, "/bollettino/reti-di-quartiere").status_code == 200
    item_path(submit(desk, path, "modifica", title="Bando per le reti (prorogato)"))
    assert "Bando per le reti (prorogato)" in public(desk, "/bollettino/reti-di-quartiere").text
    revisions = desk.page(path + "/revisioni")
    assert "Revisione 2: modificato" in revisions
    assert "<del>Bando per le reti di quartiere</del>" in revisions
    assert "<ins>Bando per le reti (prorogato)</ins>" in revisions


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("deadline", "31 ottobre", "Scrivi una data come 2021-09-06"),
        ("kind", "sagra", "Scegli tra"),
        ("links", "javascript:alert(1)", "Non è un indirizzo http(s)"),
        ("amount_max", "tanti", "Scrivi un numero intero di euro"),
    ],
)
def test_an_invalid_field_gives_422_with_the_text_kept_and_stores_nothing(
    desk: Desk, field: str, value: str, message: str
) -> None:
    before = row_counts(desk.settings)
    response = submit(desk, NEW, "bozza", **{field: value})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-errore"' in response.text
    assert "Un bando per le **reti** di quartiere." in response.text
    assert row_counts(desk.settings) == before


def test_a_duplicate_slug_gives_422_and_stores_nothing(desk: Desk) -> None:
    submit(desk, NEW, "bozza")
    before = row_counts(desk.settings)
    response = submit(desk, NEW, "bozza", title="Un'altra notizia")
    assert response.status_code == 422
    assert "già usato" in response.text
    assert row_counts(desk.settings) == before


def test_a_stale_form_is_refused_with_the_text_kept(desk: Desk) -> None:
    path = item_path(submit(desk, NEW, "bozza"))
    stale = desk.page(path)
    item_path(submit(desk, path, "bozza", title="La prima modifica"))
    desk.clock.advance(1)
    data = {
        "token": token_for(stale, path),
        "azione": "bozza",
        "revision": "1",
        **fields(title="La seconda, da un modulo vecchio"),
    }
    response = desk.client.post(path, data=data, follow_redirects=False)
    assert response.status_code == 409
    assert "Qualcun altro ha salvato" in response.text
    assert 'value="La seconda, da un modulo vecchio"' in response.text
    assert query(desk.settings, "SELECT title FROM bulletin_item") == [("La prima modifica",)]


def test_a_withdrawn_item_answers_410_in_italian(desk: Desk) -> None:
    path = item_path(submit(desk, NEW, "pubblica"))
    item_path(submit(desk, path, "ritira"))
    gone = public(desk, "/bollettino/reti-di-quartiere")
    assert gone.status_code == 410
    assert "ritirata dalla redazione" in gone.text
    assert "reti-di-quartiere" not in public(desk, "/bollettino").text
    assert "Revisione 2: ritirato" in desk.page(path + "/revisioni")


def test_a_scheduled_item_appears_at_its_time_on_a_cached_list(desk: Desk) -> None:
    # 2021-09-04 08:00 UTC is 10:00 in Rome: schedule for 11:00 Rome, an hour ahead.
    path = item_path(submit(desk, NEW, "programma", publish_day="2021-09-04", publish_time="11:00"))
    assert "Pubblicazione programmata." in desk.client.get(path + "?fatto=programma").text
    assert "reti-di-quartiere" not in public(desk, "/bollettino").text
    assert "reti-di-quartiere" not in public(desk, "/bollettino").text  # now from the cache
    desk.clock.advance(3600)
    assert "reti-di-quartiere" in public(desk, "/bollettino").text
    assert public(desk, "/bollettino/reti-di-quartiere").status_code == 200


def test_scheduling_in_the_past_gives_422(desk: Desk) -> None:
    before = row_counts(desk.settings)
    response = submit(desk, NEW, "programma", publish_day="2021-09-03", publish_time="11:00")
    assert response.status_code == 422
    assert "Scegli un momento futuro" in response.text
    assert row_counts(desk.settings) == before


def test_newsroom_pages_need_an_editors_login_and_are_never_stored(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with cheap_password_hashing():
        assert add_staff(monkeypatch, settings, "bea", REDATTORE) == 0
        clock = Clock()
        with board_client(settings, clock) as client:
            response = client.get("/redazione/nuova", follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/moderazione/accesso?next=")
            landed = login(client, clock, "bea")
            assert landed.headers["location"] == "/redazione"
            page = client.get("/redazione")
            assert page.status_code == 200
            assert page.headers["cache-control"] == "no-store"
