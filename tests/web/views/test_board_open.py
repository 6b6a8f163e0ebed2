"""/domande/dati (and its CSV and JSON), /domande/ebook.epub and /domande/regole: shared,
cached until what they show changes, 304 on a matching If-None-Match, the licence said."""

from __future__ import annotations

import csv
import io
import sqlite3
import tomllib
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb.board.export import PUBLIC_FIELDS
from greenweb.config import Settings
from greenweb.markup import plain_text
from support.board import board_client, brotli_size, dom_elements
from support.open_board import ACCENTED, OpenBoard, open_board

REPO = Path(__file__).resolve().parents[3]
PAGES = [
    "/domande/dati",
    "/domande/dati.csv",
    "/domande/dati.json",
    "/domande/ebook.epub",
    "/domande/regole",
]


@pytest.fixture
def site(settings: Settings) -> Iterator[tuple[TestClient, OpenBoard]]:
    board = open_board(settings)
    with board_client(settings) as client:
        yield client, board


def record_change(settings: Settings, sql: str, *names: str) -> None:
    """A write as greenweb.changes.record makes it: ``sql``, naming what it changed."""
    with sqlite3.connect(settings.db_path) as conn:
        version = conn.execute("SELECT version FROM content_version").fetchone()[0] + 1
        conn.execute(sql)
        conn.executemany(
            "INSERT OR REPLACE INTO content_changes (name, version) VALUES (?, ?)",
            [(name, version) for name in names],
        )
        conn.execute("UPDATE content_version SET version = ?", (version,))


@pytest.mark.parametrize("path", PAGES)
def test_shared_cached_and_304_with_a_matching_etag(
    site: tuple[TestClient, OpenBoard], path: str
) -> None:
    client, _ = site
    first = client.get(path)
    assert first.status_code == 200
    assert "set-cookie" not in first.headers
    cache_control = first.headers["cache-control"]
    assert "no-store" not in cache_control and "private" not in cache_control
    tag = first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(path, headers={"If-None-Match": '"altro"'}).status_code == 200


def test_the_csv_is_utf8_with_a_bom_a_filename_and_the_licence_link(
    site: tuple[TestClient, OpenBoard],
) -> None:
    client, board = site
    response = client.get("/domande/dati.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="dubbi-sul-clima.csv"'
    assert response.headers["link"] == '<https://spdx.org/licenses/CC-BY-4.0.html>; rel="license"'
    assert response.content.startswith("\ufeffid,state,stage,".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert ACCENTED in {row["text"] for row in rows}
    assert str(board.hidden[0]) not in {row["id"] for row in rows}


def test_the_json_carries_the_licence_and_the_fields(site: tuple[TestClient, OpenBoard]) -> None:
    client, board = site
    response = client.get("/domande/dati.json")
    assert response.headers["content-type"] == "application/json"
    assert 'rel="license"' in response.headers["link"]
    document = response.json()
    assert document["licence"] == "CC-BY-4.0"
    assert set(document["fields"]) == set(PUBLIC_FIELDS)
    ids = {q["id"] for q in document["questions"]}
    assert board.accented in ids and not ids & set(board.hidden)


def test_the_page_describes_every_field_and_states_the_licence(
    site: tuple[TestClient, OpenBoard],
) -> None:
    client, _ = site
    page = client.get("/domande/dati").text
    for name in PUBLIC_FIELDS:
        assert f"<code>{name}</code>" in page
    assert 'href="https://spdx.org/licenses/CC-BY-4.0.html" rel="license">CC-BY-4.0</a>' in page
    for path in (
        "/domande/dati.csv",
        "/domande/dati.json",
        "/domande/ebook.epub",
        "/domande/regole",
    ):
        assert f'href="{path}"' in page


def test_the_licence_setting_reaches_page_files_and_book(
    tmp_path: object, settings: Settings
) -> None:
    from dataclasses import replace

    open_board(settings)
    with board_client(replace(settings, data_license="ODbL-1.0")) as client:
        assert "ODbL-1.0" in client.get("/domande/dati").text
        assert client.get("/domande/dati.json").json()["licence"] == "ODbL-1.0"
        assert "ODbL-1.0" in client.get("/domande/dati.csv").headers["link"]
        book = client.get("/domande/ebook.epub").content
    with zipfile.ZipFile(BytesIO(book)) as archive:
        assert b"ODbL-1.0" in archive.read("EPUB/colophon.xhtml")


def test_the_ebook_is_an_epub_download(site: tuple[TestClient, OpenBoard]) -> None:
    client, _ = site
    response = client.get("/domande/ebook.epub")
    assert response.headers["content-type"] == "application/epub+zip"
    assert response.headers["content-disposition"] == 'attachment; filename="dubbi-sul-clima.epub"'
    assert "content-encoding" not in response.headers  # a zip: compressing it again gains nothing
    assert response.content.startswith(b"PK")


def book_text(client: TestClient) -> bytes:
    with zipfile.ZipFile(BytesIO(client.get("/domande/ebook.epub").content)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_a_vote_leaves_the_ebook_kept_and_moves_the_data(
    site: tuple[TestClient, OpenBoard], settings: Settings
) -> None:
    client, board = site
    assert ACCENTED.encode() in book_text(client)
    assert client.get("/domande/dati.json").json()["questions"]
    # Only the counts named: the kept e-book is still the one from before this write (so
    # the page cache does keep it: it is far below the cache's per-entry limit).
    record_change(
        settings,
        "UPDATE questions SET me_too = 41, text = 'Testo nuovo ma non annunciato' "
        f"WHERE id = {board.accented}",
        "counts",
    )
    assert ACCENTED.encode() in book_text(client)
    counts = {q["id"]: q["me_too"] for q in client.get("/domande/dati.json").json()["questions"]}
    assert counts[board.accented] == 41
    record_change(settings, "SELECT 1", "questions")
    assert b"Testo nuovo ma non annunciato" in book_text(client)


def test_the_rules_page_renders_the_rules_file_and_the_live_settings(
    site: tuple[TestClient, OpenBoard],
) -> None:
    client, _ = site
    page = client.get("/domande/regole").text
    assert "<h2>Le segnalazioni</h2>" in page
    assert "Moderazione preventiva: ogni domanda aspetta" in page
    assert "3 segnalazioni da persone diverse nascondono una domanda" in page
    assert "al massimo 5 domande" in plain_text(page)


@pytest.mark.parametrize("path", ["/domande/nuova", "/moderazione/registro", "/domande"])
def test_the_question_form_the_log_and_the_list_link_the_rules(
    site: tuple[TestClient, OpenBoard], path: str
) -> None:
    client, _ = site
    assert 'href="/domande/regole"' in client.get(path).text


def test_the_list_links_the_ebook_and_the_open_data(site: tuple[TestClient, OpenBoard]) -> None:
    client, _ = site
    page = client.get("/domande").text
    assert 'href="/domande/ebook.epub"' in page and 'href="/domande/dati"' in page


def test_the_sitemap_lists_the_two_pages(site: tuple[TestClient, OpenBoard]) -> None:
    client, _ = site
    sitemap = client.get("/sitemap.xml").text
    assert "/domande/dati</loc>" in sitemap and "/domande/regole</loc>" in sitemap


def test_the_pages_are_within_the_page_budget(site: tuple[TestClient, OpenBoard]) -> None:
    """Both pages are footprint targets too; here they are held to the page limits on a
    board with answered questions, as in the browser suite."""
    client, _ = site
    limits = tomllib.loads((REPO / "footprint-budget.toml").read_text(encoding="utf-8"))["page"]
    for path in ("/domande/dati", "/domande/regole"):
        page = client.get(path, headers={"accept-encoding": "identity"})
        assert brotli_size(page.content) <= limits["document_br_bytes"], path
        assert dom_elements(page.text) <= limits["dom_elements"], path
