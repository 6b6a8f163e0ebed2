"""The numeri's public pages over HTTP: the archive and its pages, a numero with its frozen
entries and links to the current versions, the Atom feed, the 404s, and the budget."""

from __future__ import annotations

import asyncio
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb import changes
from greenweb.asgi_client import running
from greenweb.bulletin import numeri
from greenweb.bulletin.numeri import MAX_ENTRIES
from greenweb.config import Settings
from greenweb.db import Database, fetch_all, with_database
from greenweb.web.app import create_app
from greenweb.web.site import site_of
from greenweb.web.views.footprint import collect_targets
from support import SEED_DIR, SEED_TODAY, import_seed
from support.board import brotli_size, dom_elements

ATOM = "{http://www.w3.org/2005/Atom}"
NOW = datetime(2021, 9, 4, 9, 0, tzinfo=UTC)
BR = {"accept-encoding": "br"}


def main_of(html: str) -> str:
    return html.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def publish_numero(settings: Settings, *slugs: str, title: str = "Numero nuovo") -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            by_slug = {
                row["slug"]: row["id"]
                for row in await fetch_all(conn, "SELECT id, slug FROM bulletin_item")
            }
            number = await numeri.save_draft(
                conn,
                number=None,
                title=title,
                intro_markdown="Le notizie della settimana, **in breve**.",
                item_ids=[by_slug[slug] for slug in slugs],
                now=NOW,
            )
            await numeri.publish(conn, number, NOW)
            return number

    return with_database(settings.db_path, work)


def draft_numero(settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            return await numeri.save_draft(
                conn, number=None, title="Bozza", intro_markdown="", item_ids=[1], now=NOW
            )

    return with_database(settings.db_path, work)


def change_item(settings: Settings, slug: str, assignments: str) -> None:
    """An edit or a withdrawal as the newsroom makes it: in a transaction that records it."""

    async def work(db: Database) -> None:
        async with db.transaction() as conn:
            await conn.execute(f"UPDATE bulletin_item SET {assignments} WHERE slug = ?", (slug,))
            await changes.record(conn, changes.BULLETIN)

    with_database(settings.db_path, work)


@pytest.fixture
def app_client(seeded_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded_settings, today=lambda: SEED_TODAY)) as client:
        yield client


# --- the archive ------------------------------------------------------------------------


def test_the_archive_lists_numero_1_and_offers_the_feed(client: TestClient) -> None:
    response = client.get("/bollettino/numeri")
    assert response.status_code == 200
    assert response.template.name == "bulletin/numeri.html"
    html = response.text
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Numeri del bollettino (Atom)" '
        'href="/bollettino/numeri/feed.xml">'
    ) in html
    main = main_of(html)
    assert '<h2><a href="/bollettino/numeri/1">Numero 1</a></h2>' in main
    assert "1 numero · " in text_of(main) and "12 notizie" in text_of(main)


def test_the_archive_is_newest_first_in_pages_and_404_past_the_end(
    seeded_settings: Settings,
) -> None:
    for n in range(numeri.PER_PAGE):
        publish_numero(seeded_settings, "horizon-europe", title=f"Settimana {n + 2}")
    with TestClient(create_app(seeded_settings, today=lambda: SEED_TODAY)) as client:
        first = main_of(client.get("/bollettino/numeri").text)
        listed = re.findall(r'href="/bollettino/numeri/(\d+)"', first)
        assert listed == [str(n) for n in range(21, 1, -1)]
        assert 'rel="next" href="/bollettino/numeri?page=2"' in first
        second = client.get("/bollettino/numeri?page=2")
        assert second.status_code == 200
        assert re.findall(r'href="/bollettino/numeri/(\d+)"', main_of(second.text)) == ["1"]
        beyond = client.get("/bollettino/numeri?page=3")
        assert beyond.status_code == 404
        assert "Questa pagina dei numeri non esiste." in beyond.text
        assert client.get("/bollettino/numeri?page=0").status_code == 400


def test_an_empty_archive_says_so(settings: Settings, tmp_path: Path) -> None:
    bulletin = tmp_path / "bollettino"
    shutil.copytree(SEED_DIR, bulletin)
    (bulletin / "numeri.toml").unlink()
    import_seed(settings, bulletin)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        response = client.get("/bollettino/numeri")
        assert response.status_code == 200
        assert "Nessun numero pubblicato." in response.text
        assert client.get("/bollettino/numeri/1").status_code == 404


# --- a numero ---------------------------------------------------------------------------


def test_numero_1_shows_each_item_with_its_key_facts_and_summary_in_order(
    client: TestClient,
) -> None:
    response = client.get("/bollettino/numeri/1")
    assert response.status_code == 200
    assert response.template.name == "bulletin/numero.html"
    main = main_of(response.text)
    assert "<h1>Numero 1</h1>" in main
    assert "<time" not in main.split("</h1>", 1)[1].split("<article", 1)[0]  # no date
    linked = re.findall(r'<h2><a href="/bollettino/([^"]+)">', main)
    assert linked[:2] == ["esiti-bando-wonder", "italian-sustainability-photo-award"]
    assert len(linked) == 12
    award = main.split('href="/bollettino/italian-sustainability-photo-award"', 1)[1]
    award = award.split("</article>", 1)[0]
    assert '<div class="facts">\n<dl>' in award
    assert '<dt>Scadenza</dt><dd><span class="open"><time datetime="2021-09-06">' in award
    assert "da 1.500 euro a 3.500 euro" in award
    assert "<p>Concorso fotografico aperto ai fotografi di tutto il mondo" in award
    assert "versione attuale" not in main


def test_a_published_numero_keeps_what_it_said_and_links_the_current_version(
    seeded_settings: Settings,
) -> None:
    number = publish_numero(seeded_settings, "top-of-the-pid", "horizon-europe")
    with TestClient(create_app(seeded_settings, today=lambda: SEED_TODAY)) as client:
        path = f"/bollettino/numeri/{number}"
        before = main_of(client.get(path, headers=BR).text)
        assert "<p>Le notizie della settimana, <strong>in breve</strong>.</p>" in before
        assert '<time datetime="2021-09-04">4 settembre 2021</time>' in before
        change_item(
            seeded_settings,
            "top-of-the-pid",
            "title = 'Top of the PID 2022', summary = 'Nuovo riassunto.', "
            "deadline = '2022-01-31', revision = revision + 1",
        )
        after = main_of(client.get(path, headers=BR).text)
        assert '<h2><a href="/bollettino/top-of-the-pid">Top of the PID</a></h2>' in after
        assert "2022" not in after and "Nuovo riassunto." not in after
        assert (
            "Modificata dopo l'uscita del numero: "
            '<a href="/bollettino/top-of-the-pid">versione attuale</a>'
        ) in after
        assert after.count("versione attuale") == 1  # horizon-europe is as it was
        assert "Top of the PID 2022" in client.get("/bollettino/top-of-the-pid").text


def test_a_withdrawn_item_keeps_its_entry_without_a_link(seeded_settings: Settings) -> None:
    change_item(seeded_settings, "horizon-europe", "state = 'withdrawn'")
    with TestClient(create_app(seeded_settings, today=lambda: SEED_TODAY)) as client:
        main = main_of(client.get("/bollettino/numeri/1").text)
        assert (
            "<h2>Horizon Europe: il programma quadro europeo di ricerca e innovazione</h2>" in main
        )
        assert 'href="/bollettino/horizon-europe"' not in main
        assert "Non è più pubblicata nel bollettino." in main


@pytest.mark.parametrize(
    "path", ["/bollettino/numeri/2", "/bollettino/numeri/01", "/bollettino/numeri/x"]
)
def test_an_unknown_numero_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_a_draft_numero_is_404(seeded_settings: Settings) -> None:
    number = draft_numero(seeded_settings)
    with TestClient(create_app(seeded_settings, today=lambda: SEED_TODAY)) as client:
        response = client.get(f"/bollettino/numeri/{number}")
        assert response.status_code == 404
        assert "Questo numero del bollettino non esiste." in response.text
        assert f"/bollettino/numeri/{number}" not in client.get("/bollettino/numeri").text


@pytest.mark.parametrize("path", ["/bollettino/numeri", "/bollettino/numeri/1"])
def test_numeri_pages_are_italian_script_free_and_cookie_free(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    html = response.text
    assert html.startswith('<!doctype html>\n<html lang="it">')
    assert html.count("<h1") == 1
    assert "<script" not in html.lower()
    assert "set-cookie" not in response.headers


def test_the_bulletin_and_its_items_link_the_archive(client: TestClient) -> None:
    for path in ("/bollettino", "/bollettino/horizon-europe"):
        assert '<a href="/bollettino/numeri">I numeri</a>' in client.get(path).text, path


def test_a_full_numero_of_seed_like_items_meets_the_budget(
    settings: Settings, tmp_path: Path
) -> None:
    """MAX_ENTRIES items with the seed's mix of facts (its twelve, then the first again)
    stay within 300 DOM elements and 10,240 bytes of brotli."""
    bulletin = tmp_path / "bollettino"
    bulletin.mkdir()
    seed = sorted(SEED_DIR.glob("*.md"))
    slugs = []
    for n in range(MAX_ENTRIES):
        text = seed[n % len(seed)].read_text(encoding="utf-8")
        text = re.sub(r'^slug = ".*"$', f'slug = "voce-{n}"', text, count=1, flags=re.M)
        text = re.sub(r"^position = \d+$", f"position = {n + 1}", text, count=1, flags=re.M)
        (bulletin / f"{n:02d}.md").write_text(text, encoding="utf-8")
        slugs.append(f"voce-{n}")
    import_seed(settings, bulletin)
    number = publish_numero(settings, *slugs)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        response = client.get(f"/bollettino/numeri/{number}")
        assert response.status_code == 200
        assert response.text.count("<h2><a href=") == MAX_ENTRIES
        assert dom_elements(response.text) <= 300
        assert brotli_size(response.content) <= 10_240


# --- the feed ---------------------------------------------------------------------------


def test_the_feed_is_atom_with_one_entry_per_published_numero(seeded_settings: Settings) -> None:
    number = publish_numero(seeded_settings, "horizon-europe")
    draft_numero(seeded_settings)
    with TestClient(create_app(seeded_settings, today=lambda: SEED_TODAY)) as client:
        response = client.get("/bollettino/numeri/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == "http://testserver/bollettino/numeri"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {
        "alternate": "http://testserver/bollettino/numeri",
        "self": "http://testserver/bollettino/numeri/feed.xml",
    }
    entries = root.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}id") for entry in entries] == [
        f"http://testserver/bollettino/numeri/{number}",
        "http://testserver/bollettino/numeri/1",
    ]
    newest, seed = entries
    assert newest.findtext(f"{ATOM}title") == "Numero nuovo"
    assert newest.findtext(f"{ATOM}published") == "2021-09-04T00:00:00Z"
    assert (newest.findtext(f"{ATOM}summary") or "").startswith("Le notizie della settimana, in")
    content = newest.findtext(f"{ATOM}content") or ""
    assert content.startswith("<p>Le notizie della settimana, <strong>in breve</strong>.</p>")
    assert '<a href="http://testserver/bollettino/horizon-europe">' in content
    # The seed gives numero 1 no date: no <published>, as for the seed's items.
    assert seed.find(f"{ATOM}published") is None
    assert seed.findtext(f"{ATOM}summary") == "Numero 1: 12 notizie."
    assert root.findtext(f"{ATOM}updated") == max(
        entry.findtext(f"{ATOM}updated") or "" for entry in entries
    )


def test_the_export_sitemap_and_footprint_list_the_numeri(seeded_settings: Settings) -> None:
    for n in range(numeri.PER_PAGE):
        publish_numero(seeded_settings, "horizon-europe", title=f"Settimana {n + 2}")
    app = create_app(seeded_settings, today=lambda: SEED_TODAY)

    async def listed() -> tuple[list[str], dict[str, str]]:
        async with running(app):
            exported = [
                path for source in site_of(app).export_sources for path in await source(app)
            ]
            found, _ = await collect_targets(app)
        return exported, {target.id: target.path for target in found}

    exported, targets = asyncio.run(listed())
    numbered = [f"/bollettino/numeri/{n}" for n in range(21, 0, -1)]
    # Other areas add their own addresses too (the board's open data, for one).
    assert [path for path in exported if path.startswith("/bollettino/")] == [
        "/bollettino/numeri",
        "/bollettino/numeri?page=2",
        "/bollettino/numeri/feed.xml",
        *numbered,
    ]
    assert {key: targets[key] for key in ("numeri", "numeri_deep", "numero", "numeri_feed")} == {
        "numeri": "/bollettino/numeri",
        "numeri_deep": "/bollettino/numeri?page=2",
        "numero": "/bollettino/numeri/21",
        "numeri_feed": "/bollettino/numeri/feed.xml",
    }
    with TestClient(app) as client:
        sitemap = client.get("/sitemap.xml").text
    for path in ("/bollettino/numeri", *numbered):
        assert f"<loc>http://testserver{path}</loc>" in sitemap
