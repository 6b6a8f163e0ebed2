"""/redazione/numeri over HTTP: compose a numero from the items published since the last
one, order them, save a draft, publish it; and the whole newsroom journey as an editor and
a visitor see it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from greenweb.config import Settings
from greenweb.staff import MODERATORE, REDATTORE
from support import import_seed
from support.board import query, row_counts, token_for
from support.moderation import Desk, staff_desk

NEW_ITEM = "/redazione/nuova"
NEW_NUMERO = "/redazione/numeri/nuovo"


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """The seed bulletin (numero 1 holds its twelve items) and editor "bea" logged in."""
    import_seed(settings)
    with staff_desk(settings, monkeypatch, "bea", REDATTORE) as desk:
        yield desk


def post(desk: Desk, path: str, data: dict[str, Any]) -> Any:
    page = desk.page(path)
    form = {"token": token_for(page, path), **data}
    revision = re.search(r'name="revision" value="(\d+)"', page)
    if revision and "revision" not in form:
        form["revision"] = revision.group(1)
    desk.clock.advance(1)
    return desk.client.post(path, data=form, follow_redirects=False)


def write_item(desk: Desk, title: str, slug: str, action: str = "pubblica", **more: str) -> str:
    data = {"title": title, "slug": slug, "kind": "notizia", "body": f"{title}: il testo."}
    response = post(desk, NEW_ITEM, {**data, **more, "azione": action})
    assert response.status_code == 303, response.text[-400:]
    return str(response.headers["location"].split("?")[0])


def item_id(desk: Desk, slug: str) -> int:
    return int(query(desk.settings, "SELECT id FROM bulletin_item WHERE slug = ?", (slug,))[0][0])


def compose(desk: Desk, path: str, action: str, places: dict[str, int], **more: str) -> Any:
    """Send the numero form with the items of ``places`` (slug -> place) ticked."""
    fields: list[tuple[str, str]] = [("azione", action), ("title", "Numero 2"), ("intro", "")]
    fields = [(k, more.get(k, v)) for k, v in fields]
    for slug, place in places.items():
        fields += [("voce", str(item_id(desk, slug))), (f"posto_{item_id(desk, slug)}", str(place))]
    page = desk.page(path)
    desk.clock.advance(1)
    body = urlencode([("token", token_for(page, path)), *fields])
    return desk.client.post(
        path,
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def test_a_new_numero_proposes_the_items_published_since_the_last(desk: Desk) -> None:
    write_item(desk, "Prima notizia nuova", "prima-nuova")
    write_item(desk, "Una bozza", "una-bozza", action="bozza")
    form = desk.page(NEW_NUMERO)
    assert 'value="Numero 2"' in form
    ticked = re.findall(r'name="voce" value="(\d+)" checked', form)
    assert ticked == [str(item_id(desk, "prima-nuova"))]  # numero 1 has the seed's items


def test_a_numero_is_saved_as_a_draft_then_published_in_the_chosen_order(desk: Desk) -> None:
    write_item(desk, "Notizia A", "notizia-a")
    write_item(desk, "Notizia B", "notizia-b")
    saved = compose(desk, NEW_NUMERO, "salva", {"notizia-a": 2, "notizia-b": 1})
    assert saved.status_code == 303, saved.text[-400:]
    path = saved.headers["location"].split("?")[0]
    assert path == "/redazione/numeri/2"
    assert desk.client.get("/bollettino/numeri/2").status_code == 404  # a draft

    published = compose(desk, path, "pubblica", {"notizia-a": 2, "notizia-b": 1})
    assert published.status_code == 303
    page = desk.client.get("/bollettino/numeri/2").text
    assert page.index("Notizia B") < page.index("Notizia A")
    assert "Numero 2" in desk.client.get("/bollettino/numeri").text
    assert "Numero 2" in desk.client.get("/bollettino/numeri/feed.xml").text
    assert "non cambia più" in desk.page(path)


def test_a_published_numero_keeps_what_it_said_of_an_item_edited_later(desk: Desk) -> None:
    item = write_item(desk, "Notizia da correggere", "da-correggere")
    compose(desk, NEW_NUMERO, "salva", {"da-correggere": 1})
    compose(desk, "/redazione/numeri/2", "pubblica", {"da-correggere": 1})
    post(
        desk,
        item,
        {
            "title": "Notizia corretta",
            "slug": "da-correggere",
            "kind": "notizia",
            "body": "Il testo.",
            "azione": "modifica",
        },
    )
    numero = desk.client.get("/bollettino/numeri/2").text
    assert "Notizia da correggere" in numero
    assert "Notizia corretta" not in numero
    assert "versione attuale" in numero
    assert "Notizia corretta" in desk.client.get("/bollettino/da-correggere").text


def test_a_numero_without_items_gives_422_and_stores_nothing(desk: Desk) -> None:
    before = row_counts(desk.settings)
    response = compose(desk, NEW_NUMERO, "salva", {})
    assert response.status_code == 422
    assert "Scegli almeno una notizia" in response.text
    assert row_counts(desk.settings) == before


def test_a_numero_with_an_empty_title_gives_422_with_the_choice_kept(desk: Desk) -> None:
    write_item(desk, "Notizia A", "notizia-a")
    response = compose(desk, NEW_NUMERO, "salva", {"notizia-a": 1}, title="  ")
    assert response.status_code == 422
    assert 'id="title-errore"' in response.text
    assert f'name="voce" value="{item_id(desk, "notizia-a")}" checked' in response.text
    assert query(desk.settings, "SELECT count(*) FROM bulletin_numero") == [(1,)]


def test_the_newsroom_journey_as_an_editor_and_a_visitor_see_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's end-to-end path: preview, draft, publish, edit (a revision kept),
    schedule, compose and publish a numero; each step on the public pages, the feeds and
    the calendar; and a moderator without the editor's role refused."""
    import_seed(settings)
    with staff_desk(settings, monkeypatch, "bea", REDATTORE) as desk:
        fields = {
            "title": "Festa delle reti",
            "slug": "festa-delle-reti",
            "kind": "evento",
            "starts": "2021-09-20T18:00",
            "where": "Torino",
            "body": "Una festa per le reti di quartiere.",
        }
        preview = post(desk, NEW_ITEM, {**fields, "azione": "anteprima"})
        assert preview.status_code == 200 and "Anteprima" in preview.text
        assert desk.client.get("/bollettino/festa-delle-reti").status_code == 404

        draft = post(desk, NEW_ITEM, {**fields, "azione": "bozza"})
        item = draft.headers["location"].split("?")[0]
        assert desk.client.get("/bollettino/festa-delle-reti").status_code == 404
        assert "Festa delle reti" not in desk.client.get("/calendario.ics").text

        post(desk, item, {**fields, "azione": "pubblica"})
        assert desk.client.get("/bollettino/festa-delle-reti").status_code == 200
        assert "Festa delle reti" in desk.client.get("/feed.xml").text
        assert "Festa delle reti" in desk.client.get("/calendario.ics").text
        assert "Festa delle reti" in desk.client.get("/eventi").text

        post(desk, item, {**fields, "title": "Festa delle reti (rinviata)", "azione": "modifica"})
        assert "rinviata" in desk.client.get("/bollettino/festa-delle-reti").text
        assert "rinviata" in desk.client.get("/feed.xml").text
        assert "Revisione 3: modificato" in desk.page(item + "/revisioni")

        # 2021-09-04 10:00 in Rome: scheduled for 11:00.
        write_item(
            desk,
            "Uscirà alle undici",
            "alle-undici",
            action="programma",
            publish_day="2021-09-04",
            publish_time="11:00",
        )
        assert "Uscirà alle undici" not in desk.client.get("/bollettino").text
        desk.clock.advance(3600)
        assert "Uscirà alle undici" in desk.client.get("/bollettino").text
        assert "Uscirà alle undici" in desk.client.get("/feed.xml").text

        form = desk.page(NEW_NUMERO)
        for slug in ("festa-delle-reti", "alle-undici"):
            assert f'name="voce" value="{item_id(desk, slug)}" checked' in form
        compose(desk, NEW_NUMERO, "salva", {"festa-delle-reti": 1, "alle-undici": 2})
        compose(desk, "/redazione/numeri/2", "pubblica", {"festa-delle-reti": 1, "alle-undici": 2})
        numero = desk.client.get("/bollettino/numeri/2").text
        assert "Festa delle reti (rinviata)" in numero and "Uscirà alle undici" in numero
        assert "Numero 2" in desk.client.get("/bollettino/numeri/feed.xml").text

    with staff_desk(settings, monkeypatch, "carlo", MODERATORE) as moderator:
        refused = moderator.client.get("/redazione/numeri/nuovo")
        assert refused.status_code == 403
        assert "riservata alla redazione" in refused.text
