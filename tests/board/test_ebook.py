"""The board's e-book (board/ebook.py, board/epub.py): an EPUB 3 that epubcheck accepts,
the same bytes for the same content, the answered published questions by topic."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import zipfile
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

import pytest

from greenweb.board.ebook import build_ebook
from greenweb.board.epub import xhtml_fragment
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.footprint.carbon import CarbonModel
from greenweb.italian import format_grams, format_int
from support import board_seed
from support.open_board import ACCENTED, OpenBoard, open_board

EPUBCHECK = Path("/usr/bin/epubcheck")
XHTML = "{http://www.w3.org/1999/xhtml}"


def ebook_of(settings: Settings, **overrides: str) -> bytes:
    async def build() -> bytes:
        db = Database(settings.db_path)
        await db.open()
        try:
            return await build_ebook(
                db.reader,
                base_url=overrides.get("base_url", "https://clima.example.org"),
                licence=overrides.get("licence", "CC-BY-4.0"),
                model=CarbonModel.from_setting("global", False),
            )
        finally:
            await db.close()

    return asyncio.run(build())


@pytest.fixture
def board(settings: Settings) -> OpenBoard:
    return open_board(settings)


def entries(book: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(book)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def text_of(xhtml: bytes) -> str:
    return "".join(ElementTree.fromstring(xhtml).itertext())


def chapter_ids(xhtml: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb'<section id="domanda-(\d+)">', xhtml)]


def test_the_same_content_gives_the_same_bytes(settings: Settings, board: OpenBoard) -> None:
    first = ebook_of(settings)
    assert ebook_of(settings) == first
    with zipfile.ZipFile(BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_the_container_starts_with_the_stored_mimetype(
    settings: Settings, board: OpenBoard
) -> None:
    book = ebook_of(settings)
    assert book[30:58] == b"mimetypeapplication/epub+zip"  # no extra field in between
    with zipfile.ZipFile(BytesIO(book)) as archive:
        first = archive.infolist()[0]
    assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)


def test_the_package_is_italian_and_dated_by_its_content(
    settings: Settings, board: OpenBoard
) -> None:
    package = entries(ebook_of(settings))["EPUB/package.opf"].decode()
    assert "<dc:language>it</dc:language>" in package
    modified = re.search(r'<meta property="dcterms:modified">([^<]+)</meta>', package)
    assert modified is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", modified.group(1))
    assert "CC-BY-4.0" in package


def test_chapters_follow_the_topics_and_hold_their_answered_questions(
    settings: Settings, board: OpenBoard
) -> None:
    files = entries(ebook_of(settings))
    assert chapter_ids(files["EPUB/tema-clima.xhtml"]) == [
        board_seed.PIECE_ID,
        board_seed.ANSWERED_ID,
        board.named,
    ]
    assert chapter_ids(files["EPUB/tema-energia.xhtml"]) == [board.accented]
    assert chapter_ids(files["EPUB/altre-domande.xhtml"]) == [board.untopical_piece]
    package = files["EPUB/package.opf"].decode()
    spine = re.findall(r'<item id="d\d+" href="([^"]+)"', package)
    assert spine == [
        "apertura.xhtml",
        "tema-clima.xhtml",  # data/topics.toml order: clima before energia
        "tema-energia.xhtml",
        "altre-domande.xhtml",  # questions without a topic last
        "pillole.xhtml",
        "colophon.xhtml",
    ]
    assert b'href="tema-energia.xhtml"' in files["EPUB/nav.xhtml"]


def test_unanswered_and_unpublished_questions_are_absent(
    settings: Settings, board: OpenBoard
) -> None:
    files = entries(ebook_of(settings))
    found = {
        n for name, body in files.items() if name.endswith(".xhtml") for n in chapter_ids(body)
    }
    assert found == board.published_answered
    everything = b"".join(files.values()).decode()
    assert "che non si vede" not in everything
    assert "senza risposta" not in everything
    assert board_seed.QUESTIONS[board_seed.PLAIN_ID - 1].text not in everything


def test_a_question_comes_with_its_answer_and_its_sources(
    settings: Settings, board: OpenBoard
) -> None:
    chapter = entries(ebook_of(settings))["EPUB/tema-energia.xhtml"]
    text = text_of(chapter)
    assert ACCENTED in text
    assert "già" in text and "<codice>" in text  # the answer, its code kept as text
    assert b"<br/>" in chapter and b'<a href="https://www.example.org/g.png">grafico</a>' in chapter
    assert "da leggere, in inglese, di IPCC" in text
    assert "da guardare, in inglese" in text
    assert b'href="https://svs.gsfc.nasa.gov/14502"' in chapter
    assert f'href="https://clima.example.org/domande/{board.accented}"'.encode() in chapter


def test_the_pieces_have_their_own_chapter(settings: Settings, board: OpenBoard) -> None:
    pieces = entries(ebook_of(settings))["EPUB/pillole.xhtml"]
    text = text_of(pieces)
    assert "La fermata del 68" in text
    assert "Il conto <del> & il resto" in text  # escaped, not markup
    assert "Paga chi inquina." in text
    assert b'href="https://www.example.org/pillole/il-conto"' in pieces


def test_the_colophon_states_the_file_size_its_grams_and_the_licence(
    settings: Settings, board: OpenBoard
) -> None:
    book = ebook_of(settings, licence="ODbL-1.0")
    colophon = text_of(entries(book)["EPUB/colophon.xhtml"])
    assert f"pesa {format_int(len(book))} byte" in colophon
    grams = CarbonModel.from_setting("global", False).grams(len(book))
    assert f"{format_grams(grams)} g di CO2e" in colophon
    assert "Licenza: ODbL-1.0" in colophon
    assert re.search(r"Edizione del \d+ \w+ \d{4}", colophon)


def test_xhtml_fragments_close_void_elements_and_escape_text() -> None:
    html = '<p>a<br>b &amp; &lt;c&gt;</p>\n<hr>\n<p><a href="x?a=1&amp;b=2">l</a></p>'
    fragment = xhtml_fragment(html)
    assert fragment == (
        '<p>a<br/>b &amp; &lt;c&gt;</p>\n<hr/>\n<p><a href="x?a=1&amp;b=2">l</a></p>'
    )
    ElementTree.fromstring(f"<div>{fragment}</div>")


def require_epubcheck() -> None:
    if EPUBCHECK.exists() and shutil.which("java"):
        return
    message = "epubcheck not found: install it with `apt-get install epubcheck`"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and a tool is missing: {message}", pytrace=False)
    pytest.skip(message)


def test_epubcheck_finds_no_error_and_no_warning(
    settings: Settings, board: OpenBoard, tmp_path: Path
) -> None:
    require_epubcheck()
    path = tmp_path / "dubbi-sul-clima.epub"
    path.write_bytes(ebook_of(settings))
    # Debian's /usr/bin/epubcheck is the jar itself (run by binfmt where it is set up).
    done = subprocess.run(
        ["java", "-jar", str(EPUBCHECK), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "0 fatals / 0 errors / 0 warnings" in report, report


def test_characters_xml_cannot_hold_are_left_out(settings: Settings, board: OpenBoard) -> None:
    from support.board import publish_directly

    publish_directly(
        settings,
        text="Una domanda con \ufffe e \uffff dentro: si legge?",
        answer_md="Sì.",
        answer_html="<p>Sì \uffff.</p>",
        answered_at=1,
        topic="cibo",
    )
    chapter = entries(ebook_of(settings))["EPUB/tema-cibo.xhtml"]
    assert "Una domanda con  e  dentro: si legge?" in text_of(chapter)
