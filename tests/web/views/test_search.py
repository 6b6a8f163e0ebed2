"""/cerca over the whole site: the groups by kind, ?in= and its pages, only public text,
the header's box, and the page cache (a moderator's answer shows in a kept results page).
The bulletin's own search cases: tests/test_search.py."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.markup import render_markdown
from greenweb.web.site import site_of
from support import SEED_TODAY
from support.board import (
    brotli_size,
    cheap_password_hashing,
    dom_elements,
    publish_directly,
    query,
)
from support.moderation import Desk, moderator_desk


@pytest.fixture
def site(seeded_settings: Settings) -> Settings:
    """The seed bulletin, the seed resources, and published questions about glaciers."""
    publish_directly(seeded_settings, 25, text="I ghiacciai delle Alpi spariranno del tutto?")
    return seeded_settings


@pytest.fixture
def client(site: Settings) -> Iterator[TestClient]:
    from greenweb.web.app import create_app

    with TestClient(create_app(site, today=lambda: SEED_TODAY)) as client:
        yield client


def headings(html: str) -> list[str]:
    return re.findall(r'<h2 id="h-[a-z]+">([^<]+) <span class="meta">', html)


def test_without_in_the_hits_are_grouped_by_kind_a_few_each(client: TestClient) -> None:
    response = client.get("/cerca", params={"q": "clima"})
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [g.kind.name for g in groups] == ["bollettino", "domande", "risorse"]
    shown = {g.kind.name: g.page for g in groups}
    assert shown["risorse"].total > 3 and len(shown["risorse"].items) == 3
    assert shown["bollettino"].total >= 1
    html = response.text
    # Groups without hits are left out; "clima" is in no question.
    assert headings(html) == ["Bandi e notizie", "Risorse"]
    total = shown["risorse"].total
    assert (
        f'<a href="/cerca?q=clima&amp;in=risorse">tutti i {total} risultati in «Risorse»</a>'
        in html
    )
    assert html.count('<article class="card">') == len(shown["bollettino"].items) + 3


def test_a_group_with_more_hits_than_shown_links_to_its_pages(client: TestClient) -> None:
    html = client.get("/cerca", params={"q": "ghiacciai"}).text
    assert headings(html) == ["Domande"]
    assert '<a href="/cerca?q=ghiacciai&amp;in=domande">tutti i 25 risultati in «Domande»</a>' in (
        html
    )
    assert "25 risultati per «ghiacciai»." in html


def test_in_shows_one_kind_paginated(client: TestClient) -> None:
    seen: set[int] = set()
    for number, size in [(1, 20), (2, 5)]:
        response = client.get("/cerca", params={"q": "ghiacciai", "in": "domande", "page": number})
        assert response.status_code == 200
        page = response.context["page"]
        assert (page.total, page.pages, len(page.items)) == (25, 2, size)
        seen |= {hit.item.id for hit in page.items}
        assert "<mark>ghiacciai</mark>" in response.text
    assert len(seen) == 25
    html = client.get("/cerca?q=ghiacciai&in=domande").text
    assert '<link rel="next" href="/cerca?q=ghiacciai&amp;in=domande&amp;page=2">' in html
    assert '<option value="domande" selected>domande</option>' in html
    past = client.get("/cerca", params={"q": "ghiacciai", "in": "domande", "page": 3})
    assert past.status_code == 404
    assert "Questa pagina dei risultati non esiste." in past.text


def test_a_question_hit_links_to_its_page_with_its_stage(
    client: TestClient, site: Settings
) -> None:
    first = query(site, "SELECT min(id) FROM questions")[0][0]
    html = client.get("/cerca", params={"q": "alpi", "in": "domande"}).text
    assert f'<a href="/domande/{first}">I ghiacciai delle Alpi spariranno del tutto?</a>' in html
    assert '<p class="kind">Domanda · Pubblicata</p>' in html


def test_a_resource_hit_links_to_the_resource_in_its_language(client: TestClient) -> None:
    html = client.get("/cerca", params={"q": "ispra", "in": "risorse"}).text
    assert re.search(r'<a href="https://[^"]+" rel="noopener" hreflang="it">Emissioni di gas', html)
    assert "<mark>ISPRA</mark>" in html


@pytest.mark.parametrize("value", ["tutto", "Domande", "bandi", "domande ", "<b>"])
def test_an_unknown_in_is_400_in_italian(client: TestClient, value: str) -> None:
    response = client.get("/cerca", params={"q": "clima", "in": value})
    assert response.status_code == 400
    assert response.template.name == "error.html"
    assert "Scegli tra bollettino, domande e risorse." in response.text


def test_an_empty_in_searches_everything(client: TestClient) -> None:
    response = client.get("/cerca", params={"q": "clima", "in": ""})
    assert response.status_code == 200
    assert response.context["groups"] is not None


def test_the_grouped_results_have_no_second_page(client: TestClient) -> None:
    response = client.get("/cerca", params={"q": "clima", "page": "2"})
    assert response.status_code == 404


@pytest.mark.parametrize("state", ["ricevuta", "segnalata", "nascosta", "respinta"])
def test_a_question_that_is_not_published_is_never_found(site: Settings, state: str) -> None:
    from greenweb.web.app import create_app

    publish_directly(site, text=f"La domanda sul geotermico, {state}?", state=state)
    with TestClient(create_app(site, today=lambda: SEED_TODAY)) as client:
        for where in ({}, {"in": "domande"}):
            response = client.get("/cerca", params={"q": "geotermico", **where})
            assert response.status_code == 200
            assert "Nessun risultato per «geotermico»." in response.text


def test_the_header_box_searches_the_whole_site(client: TestClient) -> None:
    html = client.get("/domande").text
    assert (
        '<form role="search" action="/cerca"><label for="cerca-testata" class="vh">'
        "Cerca nel sito: bollettino, domande e risorse</label>" in html
    )
    assert "<button>Cerca nel sito</button>" in html


def test_a_full_page_of_long_hits_is_within_the_page_budget(site: Settings) -> None:
    """The footprint measures the groups (its "search" target) and the bulletin's last page;
    a page of 20 long questions with long answers, the most a kind's page shows, is held to
    the same limits here."""
    from greenweb.web.app import create_app

    repo = Path(__file__).resolve().parents[3]
    limits = tomllib.loads((repo / "footprint-budget.toml").read_text(encoding="utf-8"))["page"]
    answer = "Le **morene** raccontano dove arrivava il ghiaccio. " * 60
    publish_directly(
        site,
        20,
        text="Le morene dei ghiacciai del Monte Rosa si vedranno dalla pianura? " * 14,
        answer_md=answer,
        answer_html=render_markdown(answer),
        answered_at=1_630_000_000,
    )
    with TestClient(create_app(site, today=lambda: SEED_TODAY)) as client:
        for path in ("/cerca?q=morene%20ghiacciai&in=domande", "/cerca?q=morene%20ghiacciai"):
            page = client.get(path, headers={"accept-encoding": "identity"})
            assert page.status_code == 200
            assert brotli_size(page.content) <= limits["document_br_bytes"], path
            assert dom_elements(page.text) <= limits["dom_elements"], path
        assert len(client.get("/cerca?q=morene&in=domande").context["page"].items) == 20


# --- the page cache -------------------------------------------------------------------------


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with cheap_password_hashing(), moderator_desk(settings, monkeypatch) as desk:
        yield desk


def test_a_moderators_answer_shows_in_a_kept_results_page(desk: Desk) -> None:
    store = site_of(desk.client.app.app).page_store  # type: ignore[attr-defined]
    path = "/cerca?q=permafrost&in=domande"
    assert "Nessun risultato per «permafrost»." in desk.client.get(path).text
    hits = store.stats.hits
    assert "Nessun risultato" in desk.client.get(path).text
    assert store.stats.hits == hits + 1, "the results page is kept"

    answered = desk.act(desk.public, "rispondi", risposta="Sì: il **permafrost** si scioglie.")
    assert answered.status_code == 303
    html = desk.client.get(path).text
    assert "1 risultato per «permafrost»." in html
    assert "<mark>permafrost</mark> si scioglie." in html
    assert f'<a href="/domande/{desk.public}">' in html
