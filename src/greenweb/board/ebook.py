"""The board's e-book: the answered, published questions as an EPUB 3
(``greenweb ebook OUT.epub`` and ``/domande/ebook.epub``).

A chapter per topic, in the order of ``data/topics.toml``, and the questions without a
topic in a last one; each question with its answer and its sources (kind, language,
link). Then the theatre pieces, and a colophon: the edition's date, the licence, and the
file's own size and grams CO2e. The size is exact: the colophon is kept uncompressed in
the zip, so its figure changes the file's length by the figure's own length, and the book
is written again until the figure it states is its size (two or three passes).

Only questions in state *pubblicata* are read. The edition's date is the newest public
change of the content (:func:`greenweb.board.export.content_modified`), never the clock:
the same content gives the same bytes, in the command and in every worker.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import aiosqlite

from greenweb.board.epub import Book, Document, write_epub, xhtml_fragment, xml_text
from greenweb.board.export import content_modified, licence_url
from greenweb.board.resources import COLUMNS, Resource, resource_from_row
from greenweb.board.topics import list_topics
from greenweb.config import Settings
from greenweb.db import fetch_all
from greenweb.footprint.carbon import CarbonModel
from greenweb.italian import ROME, format_date, format_grams, format_int
from greenweb.markup import summarise

TITLE: Final = "Dubbi sul clima: le risposte"
OTHER_CHAPTER: Final = "Altre domande"
PATH: Final = "/domande/ebook.epub"
_PASSES: Final = 8
_PARAGRAPHS: Final = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Answered:
    id: int
    text: str
    display_name: str | None
    topic: str | None
    answer_html: str
    answered_at: int
    resources: Sequence[Resource]


@dataclass(frozen=True)
class Piece:
    question_id: int
    question_text: str
    title: str
    url: str | None
    text: str | None


@dataclass(frozen=True)
class Chapter:
    name: str  # file name in the book
    title: str
    questions: Sequence[Answered]


@dataclass(frozen=True)
class Contents:
    chapters: Sequence[Chapter]
    pieces: Sequence[Piece]
    modified: datetime

    @property
    def question_ids(self) -> list[int]:
        return [q.id for chapter in self.chapters for q in chapter.questions]


async def _sources(conn: aiosqlite.Connection) -> dict[int, list[Resource]]:
    rows = await fetch_all(
        conn,
        f"SELECT qr.question_id, {COLUMNS} FROM question_resources qr "
        "JOIN resources r ON r.id = qr.resource_id JOIN questions q ON q.id = qr.question_id "
        "WHERE q.state = 'pubblicata' AND q.answered_at IS NOT NULL "
        "ORDER BY qr.question_id, qr.position",
    )
    found: dict[int, list[Resource]] = {}
    for row in rows:
        found.setdefault(row["question_id"], []).append(resource_from_row(row))
    return found


async def ebook_contents(conn: aiosqlite.Connection) -> Contents:
    """What the e-book holds, read from the database."""
    sources = await _sources(conn)
    rows = await fetch_all(
        conn,
        "SELECT id, text, display_name, topic, answer_html, answered_at FROM questions "
        "WHERE state = 'pubblicata' AND answered_at IS NOT NULL ORDER BY answered_at, id",
    )
    answered = [
        Answered(
            row["id"],
            row["text"],
            row["display_name"],
            row["topic"],
            row["answer_html"],
            row["answered_at"],
            sources.get(row["id"], []),
        )
        for row in rows
    ]
    chapters = []
    topics = await list_topics(conn)
    for topic in topics:
        inside = [q for q in answered if q.topic == topic.slug]
        if inside:
            chapters.append(Chapter(f"tema-{topic.slug}.xhtml", topic.label, inside))
    known = {t.slug for t in topics}
    others = [q for q in answered if q.topic not in known]
    if others:
        chapters.append(Chapter("altre-domande.xhtml", OTHER_CHAPTER, others))
    piece_rows = await fetch_all(
        conn,
        "SELECT id, text, piece_title, piece_url, piece_text FROM questions "
        "WHERE state = 'pubblicata' AND piece_at IS NOT NULL ORDER BY piece_at, id",
    )
    pieces = [
        Piece(r["id"], r["text"], r["piece_title"], r["piece_url"], r["piece_text"])
        for r in piece_rows
    ]
    modified = datetime.fromtimestamp(await content_modified(conn), UTC)
    return Contents(chapters, pieces, modified)


# --- writing ----------------------------------------------------------------------------


def _text(value: str) -> str:
    return xml_text(value)


def _paragraphs(text: str) -> str:
    """Plain text as XHTML paragraphs: a blank line between paragraphs, a line break in one."""
    return "".join(
        "<p>" + "<br/>".join(_text(line) for line in block.strip().splitlines()) + "</p>\n"
        for block in _PARAGRAPHS.split(text.strip())
        if block.strip()
    )


def _link(url: str, label: str) -> str:
    return f'<a href="{xml_text(url, quote=True)}">{_text(label)}</a>'


def _source(resource: Resource) -> str:
    kind = resource.kind_label.lower()
    return (
        f"<li>{_link(resource.url, resource.title)}: {_text(kind)}, in "
        f"{_text(resource.language_label)}, di {_text(resource.source)}</li>\n"
    )


def _question(question: Answered, base_url: str) -> str:
    asked = f"Chiesta da {_text(question.display_name)}. " if question.display_name else ""
    answered_on = format_date(datetime.fromtimestamp(question.answered_at, ROME).date())
    parts = [
        f'<section id="domanda-{question.id}">\n<h2>Domanda n. {question.id}</h2>\n',
        f"<blockquote>\n{_paragraphs(question.text)}</blockquote>\n",
        f"<p>{asked}Risposta del {answered_on}. "
        f"{_link(f'{base_url}/domande/{question.id}', 'La domanda sul sito')}.</p>\n",
        f"<h3>La risposta</h3>\n{xhtml_fragment(question.answer_html)}\n",
    ]
    if question.resources:
        sources = "".join(_source(r) for r in question.resources)
        parts.append(f"<h3>Le fonti</h3>\n<ul>\n{sources}</ul>\n")
    parts.append("</section>\n")
    return "".join(parts)


def _chapter(chapter: Chapter, base_url: str) -> Document:
    body = f"<h1>{_text(chapter.title)}</h1>\n" + "".join(
        _question(q, base_url) for q in chapter.questions
    )
    return Document(chapter.name, chapter.title, body)


def _pieces(pieces: Sequence[Piece]) -> Document:
    parts = [
        "<h1>Pillole teatrali</h1>\n<p>Alcune domande sono diventate brevi pezzi di teatro.</p>\n"
    ]
    for piece in pieces:
        parts.append(f"<section>\n<h2>{_text(piece.title)}</h2>\n")
        excerpt = _text(summarise(piece.question_text, 160))
        parts.append(f"<p>Dalla domanda n. {piece.question_id}: «{excerpt}»</p>\n")
        if piece.text:
            parts.append(_paragraphs(piece.text))
        if piece.url:
            parts.append(f"<p>{_link(piece.url, 'La pillola in rete')}</p>\n")
        parts.append("</section>\n")
    return Document("pillole.xhtml", "Pillole teatrali", "".join(parts))


def _opening(contents: Contents, base_url: str) -> Document:
    count = len(contents.question_ids)
    said = "una domanda" if count == 1 else f"{format_int(count)} domande"
    body = (
        f"<h1>{_text(TITLE)}</h1>\n"
        f"<p>Le domande sul cambiamento climatico che chi legge ha fatto su "
        f"{_link(base_url + '/domande', 'Dubbi sul clima')}, con le risposte della "
        f"redazione e le fonti scelte: {said}, divise per tema.</p>\n"
    )
    return Document("apertura.xhtml", TITLE, body)


def _colophon(
    contents: Contents, licence: str, model: CarbonModel, size: int, base_url: str
) -> Document:
    edition = format_date(contents.modified.astimezone(ROME).date())
    grams = format_grams(model.grams(size))
    body = (
        "<h1>Colophon</h1>\n"
        f"<p>Edizione del {edition}, con le risposte pubblicate fino a quel giorno.</p>\n"
        f"<p>Licenza: {_link(licence_url(licence), licence)}. I dati delle domande sono "
        f"anche {_link(base_url + '/domande/dati', 'dati aperti')}.</p>\n"
        f"<p>Questo file pesa {format_int(size)} byte: scaricarlo una volta costa circa "
        f"{grams} g di CO2e (modello Sustainable Web Design v4, rete "
        f"{_text(model.grid_label)}).</p>\n"
    )
    return Document("colophon.xhtml", "Colophon", body, stored=True)


def _book(
    contents: Contents, *, base_url: str, licence: str, model: CarbonModel, size: int
) -> Book:
    documents = [_opening(contents, base_url)]
    documents += [_chapter(chapter, base_url) for chapter in contents.chapters]
    if contents.pieces:
        documents.append(_pieces(contents.pieces))
    documents.append(_colophon(contents, licence, model, size, base_url))
    return Book(
        identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, base_url + PATH)}",
        title=TITLE,
        language="it",
        publisher=f"Dubbi sul clima ({base_url})",
        rights=f"{licence} ({licence_url(licence)})",
        modified=contents.modified,
        documents=documents,
    )


def ebook_bytes(contents: Contents, *, base_url: str, licence: str, model: CarbonModel) -> bytes:
    """The EPUB of ``contents``, its colophon stating its exact size."""
    size = 0
    for _ in range(_PASSES):
        data = write_epub(
            _book(contents, base_url=base_url, licence=licence, model=model, size=size)
        )
        if len(data) == size:
            return data
        size = len(data)
    raise RuntimeError(f"the e-book's size did not settle in {_PASSES} passes")


async def build_ebook(
    conn: aiosqlite.Connection, *, base_url: str, licence: str, model: CarbonModel
) -> bytes:
    return ebook_bytes(await ebook_contents(conn), base_url=base_url, licence=licence, model=model)


async def site_ebook(conn: aiosqlite.Connection, settings: Settings) -> bytes:
    """The e-book as the site serves it (/domande/ebook.epub, ``greenweb ebook``, the
    footprint's line), from the site's address, data licence and carbon model."""
    return await build_ebook(
        conn,
        base_url=settings.base_url,
        licence=settings.data_license,
        model=settings.carbon_model,
    )
