"""/cerca over the bulletin (?in=bollettino): accent-blind full-text search, safe with any
input, paginated; the draft questions' words and the similar questions; the query plans.
The whole site's page: tests/web/views/test_search.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.db import Database, fetch_all
from greenweb.search import (
    KINDS,
    MARK_END,
    MARK_START,
    MAX_QUERY_CHARS,
    Kind,
    fts_query,
    search,
    similar_questions,
)
from greenweb.web.app import create_app
from support import SEED_TODAY, import_seed, make_settings
from support.factory import write_item

SOSTENIBILITA = {
    "italian-sustainability-photo-award",
    "top-of-the-pid",
    "borsa-sociale-di-torino",
    "conversation-community",
}


def hits(client: TestClient, q: str) -> list[str]:
    response = client.get("/cerca", params={"q": q, "in": "bollettino"})
    assert response.status_code == 200, response.text[:300]
    assert response.template.name == "search.html"
    return [hit.item.slug for hit in response.context["page"].items]


@pytest.mark.parametrize("q", ["sostenibilita", "Sostenibilità", "SOSTENIBILITA", "sostenibilit"])
def test_search_ignores_accents_and_case(client: TestClient, q: str) -> None:
    assert set(hits(client, q)) == SOSTENIBILITA


def test_search_matches_words_by_prefix(client: TestClient) -> None:
    assert hits(client, "bott") == ["bottega-digitale-per-la-pmi"]


def test_search_needs_every_word(client: TestClient) -> None:
    assert hits(client, "bottega webinar") == ["bottega-digitale-per-la-pmi"]
    response = client.get("/cerca", params={"q": "bottega horizon", "in": "bollettino"})
    assert response.context["page"].total == 0
    assert "Nessun risultato per «bottega horizon»." in response.text


def test_search_finds_words_of_titles(client: TestClient) -> None:
    assert "horizon-europe" in hits(client, "quadro europeo")


def test_results_show_highlighted_snippets(client: TestClient) -> None:
    response = client.get("/cerca", params={"q": "sostenibilita", "in": "bollettino"})
    html = response.text
    assert "<mark>Sostenibilità</mark>" in html
    assert "<mark>sostenibilità</mark>" in html
    assert "4 risultati per «sostenibilita»." in html
    assert '<a href="/bollettino/top-of-the-pid">Top of the PID</a>' in html
    assert MARK_START not in html and MARK_END not in html


def test_snippets_are_escaped_around_the_marks(tmp_path: Path) -> None:
    folder = tmp_path / "items"
    write_item(folder, "01.md", slug="x", body="Un <b>grassetto</b> & un riciclo finto.")
    settings = make_settings(tmp_path)
    import_seed(settings, folder)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        html = client.get("/cerca", params={"q": "riciclo"}).text
    assert "Un &lt;b&gt;grassetto&lt;/b&gt; &amp; un <mark>riciclo</mark> finto." in html


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"bando',
        "bando*",
        "*",
        "NEAR(bando premio)",
        "NEAR(",
        "bando NOT premio",
        "AND",
        "OR",
        "-bando",
        "bando -",
        "title:bando",
        "^bando",
        "(bando",
        "bando)",
        "{title body}: bando",
        "'; DROP TABLE bulletin_item; --",
        "_",
        "a" * 200,
        "🌍 clima",
        "é" * 200,
        " ".join(["bando"] * 33),  # more words than fts_query keeps
    ],
)
def test_any_query_is_safe(client: TestClient, q: str) -> None:
    # (Control characters never reach the search: the request limits answer 400 first,
    # tested in test_limits.py.)
    response = client.get("/cerca", params={"q": q})
    assert response.status_code == 200
    assert response.context["page"] is None or response.context["page"].total >= 0
    assert client.get("/healthz").json()["bulletin_items"] == 12


def test_fts_query_quotes_every_word_as_a_prefix() -> None:
    assert fts_query('NEAR("x" y*') == '"NEAR"* "x"* "y"*'
    assert fts_query("-- ; ' \"") is None
    assert fts_query(" ".join(f"w{n}" for n in range(20))) == " ".join(
        f'"w{n}"*' for n in range(12)
    )


def test_a_query_without_words_finds_nothing(client: TestClient) -> None:
    response = client.get("/cerca", params={"q": "!!! ???", "in": "bollettino"})
    assert response.context["page"].total == 0
    assert "Nessun risultato" in response.text


@pytest.mark.parametrize("where", [{}, {"in": "bollettino"}, {"in": "domande"}])
def test_a_query_without_words_says_so(client: TestClient, where: dict[str, str]) -> None:
    response = client.get("/cerca", params={"q": '"*" -- :^', **where})
    assert response.status_code == 200
    assert "la ricerca non contiene parole, solo segni" in response.text


@pytest.mark.parametrize("path", ["/cerca", "/cerca?q=", "/cerca?q=%20%20"])
def test_an_empty_query_shows_the_help_text(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.context["page"] is None
    assert response.context["query"] == ""
    assert "Gli accenti non contano" in response.text
    assert '<input id="q" name="q" type="search" value="" maxlength="200">' in response.text


def test_a_query_of_200_characters_is_accepted(client: TestClient) -> None:
    q = "bando " + "x" * (MAX_QUERY_CHARS - 6)
    assert len(q) == MAX_QUERY_CHARS
    assert client.get("/cerca", params={"q": q}).status_code == 200


def test_an_overlong_query_is_400_with_an_italian_message_and_the_form(client: TestClient) -> None:
    q = "a" * (MAX_QUERY_CHARS + 1)
    response = client.get("/cerca", params={"q": q})
    assert response.status_code == 400
    assert response.template.name == "search.html"
    html = response.text
    assert "La ricerca può contenere al massimo 200 caratteri." in html
    assert '<form role="search" action="/cerca" class="search">' in html
    assert f'value="{"a" * MAX_QUERY_CHARS}"' in html
    assert 'aria-invalid="true" aria-describedby="q-errore"' in html
    assert response.context["page"] is None


def test_search_page_is_not_indexed_and_has_no_second_search_box(client: TestClient) -> None:
    html = client.get("/cerca", params={"q": "bando"}).text
    assert '<meta name="robots" content="noindex">' in html
    assert html.count('role="search"') == 1


@pytest.mark.parametrize("raw", ["0", "abc", "-1", "99999999"])
def test_a_bad_results_page_is_400(client: TestClient, raw: str) -> None:
    response = client.get(f"/cerca?q=bando&page={raw}")
    assert response.status_code == 400
    assert response.template.name == "error.html"


# --- pages of results -----------------------------------------------------------------------


def test_results_paginate(generated_client: TestClient) -> None:
    seen: list[str] = []
    for number, size in [(1, 20), (2, 20), (3, 5)]:
        response = generated_client.get(
            "/cerca", params={"q": "riciclo", "in": "bollettino", "page": str(number)}
        )
        assert response.status_code == 200
        page = response.context["page"]
        assert (page.number, page.total, page.pages, len(page.items)) == (number, 45, 3, size)
        assert f"Pagina {number} di 3" in response.text
        seen += [hit.item.slug for hit in page.items]
    assert len(set(seen)) == 45


def test_results_pager_links_keep_the_query(generated_client: TestClient) -> None:
    html = generated_client.get("/cerca?q=riciclo&in=bollettino&page=2").text
    assert '<link rel="prev" href="/cerca?q=riciclo&amp;in=bollettino">' in html
    assert '<link rel="next" href="/cerca?q=riciclo&amp;in=bollettino&amp;page=3">' in html
    assert '<a rel="prev" href="/cerca?q=riciclo&amp;in=bollettino">' in html
    assert '<a rel="next" href="/cerca?q=riciclo&amp;in=bollettino&amp;page=3">' in html


def test_a_results_page_past_the_end_is_404(generated_client: TestClient) -> None:
    response = generated_client.get("/cerca?q=riciclo&in=bollettino&page=4")
    assert response.status_code == 404
    assert response.template.name == "error.html"
    assert "Questa pagina dei risultati non esiste." in response.text


def test_search_domain_function_counts_and_limits(generated_settings: Settings) -> None:
    async def run() -> tuple[int, int]:
        db = Database(generated_settings.db_path)
        await db.open()
        try:
            page = await search(db.reader, "sostenibilita numero", page=3, per_page=20)
            return page.total, len(page.items)
        finally:
            await db.close()

    assert asyncio.run(run()) == (45, 5)


@pytest.mark.parametrize("q", ["\x00", "\x02bando\x03"])
def test_a_query_with_control_characters_is_refused_before_searching(
    client: TestClient, q: str
) -> None:
    response = client.get("/cerca", params={"q": q})
    assert response.status_code == 400
    assert "<mark>" not in response.text
    assert client.get("/healthz").json()["bulletin_items"] == 12


# --- the words of a draft, similar questions ------------------------------------------------


def test_a_drafts_query_is_any_of_its_significant_words() -> None:
    draft = "Perché i ghiacciai delle Alpi si sciolgono così in fretta? E i ghiacciai del Nord?"
    assert fts_query(draft, any_word=True) == (
        '"ghiacciai"* OR "alpi"* OR "sciolgono"* OR "fretta"* OR "nord"*'
    )
    assert fts_query("Perché è così? Io non so", any_word=True) is None
    assert fts_query('NEAR("a" b) OR -c:d', any_word=True) == '"near"*'


def test_the_similar_questions_are_published_best_first_and_at_most_three(
    seeded_settings: Settings,
) -> None:
    settings = seeded_settings
    from support.board import publish_directly

    alpine = publish_directly(settings, 2, text="I ghiacciai delle Alpi spariranno?")
    best = publish_directly(settings, text="Ghiacciai alpini: le Alpi senza ghiacciai, quando?")
    publish_directly(settings, 3, text="Il mare di Genova si scalda?")
    publish_directly(settings, text="I ghiacciai delle Alpi? (in attesa)", state="ricevuta")
    publish_directly(settings, 2, text="Le Alpi d'inverno avranno neve?")

    async def run() -> list[int]:
        db = Database(settings.db_path)
        await db.open()
        try:
            found = await similar_questions(
                db.reader, "Quanto resisteranno i ghiacciai sulle Alpi?", limit=3
            )
            return [q.id for q in found]
        finally:
            await db.close()

    found = asyncio.run(run())
    assert found[0] == best[0]
    assert set(found) == {*best, *alpine}


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_each_kinds_page_lets_fts5_order_by_rank_and_counts_from_the_index(
    settings: Settings, kind: Kind
) -> None:
    """A later page costs what the first does: FTS5 orders by rank itself (no sort of the
    hits) and OFFSET skips rows before their snippets are made; the count walks the index,
    never every question."""
    params = {"query": '"x"*', "start": "", "end": "", "limit": 20, "offset": 0}

    async def plans() -> tuple[list[str], list[str]]:
        db = Database(settings.db_path)
        await db.open()
        try:
            count = await fetch_all(db.reader, f"EXPLAIN QUERY PLAN {kind.count_sql}", params)
            page = await fetch_all(db.reader, f"EXPLAIN QUERY PLAN {kind.page_sql}", params)
            return [row["detail"] for row in count], [row["detail"] for row in page]
        finally:
            await db.close()

    count, page = asyncio.run(plans())
    table = kind.count_sql.split(" FROM ")[1].split()[0]
    assert count[0].startswith(f"SCAN {table} VIRTUAL TABLE INDEX 0:"), count
    materialize = page.index("MATERIALIZE hit")
    # idxNum 32: FTS5's own "ORDER BY rank"; the only sort is of the page's own rows.
    assert page[materialize + 1].startswith(f"SCAN {table} VIRTUAL TABLE INDEX 32:"), page
    assert page.count("USE TEMP B-TREE FOR ORDER BY") <= 2  # the page's rows, resource topics
    assert page[-1] == "USE TEMP B-TREE FOR ORDER BY" or "subquery" in page[-1], page
