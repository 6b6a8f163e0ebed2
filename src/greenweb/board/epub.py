"""An EPUB 3 container written with :mod:`zipfile`: no e-book library (EbookLib is AGPL).

What makes it a valid EPUB 3 (epubcheck reads it so): the ``mimetype`` entry first and
stored, with no extra field; ``META-INF/container.xml`` pointing at the package document;
a package with ``dc:identifier``, ``dc:title``, ``dc:language`` and ``dcterms:modified``; a
navigation document; XHTML content documents. The same book gives the same bytes: entries
in a fixed order with a fixed timestamp, and nothing read from the clock.

:func:`xhtml_fragment` turns the HTML that :mod:`greenweb.markup` renders (void elements
unclosed, as HTML allows) into well-formed XHTML.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from html.parser import HTMLParser
from typing import Final

MEDIA_TYPE: Final = "application/epub+zip"
# The zip format's earliest date: the entries' time says nothing about the content.
ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)
_VOID: Final = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)

CONTAINER_XML: Final = """\
<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles>
<rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
</rootfiles>
</container>
"""


# What XML 1.0 cannot hold at all, even escaped. The board's text cleaning drops control
# characters already; U+FFFE and U+FFFF (unassigned, not controls) would still get through.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str, *, quote: bool = False) -> str:
    """``value`` escaped for XHTML text (``quote``: for an attribute), without the
    characters XML forbids."""
    return escape(_NOT_XML.sub("", value), quote=quote)


@dataclass(frozen=True)
class Document:
    """One XHTML content document: its file name under ``EPUB/``, its title (the table of
    contents shows it) and its body, already XHTML. ``stored``: kept uncompressed in the
    zip, so that a change of its length changes the file's size by exactly as much."""

    name: str
    title: str
    body: str
    stored: bool = False


@dataclass(frozen=True)
class Book:
    identifier: str  # a URN, the same for every edition of this book
    title: str
    language: str
    publisher: str
    rights: str
    modified: datetime  # UTC
    documents: Sequence[Document]  # in reading order


def page(title: str, body: str, language: str) -> str:
    """A complete XHTML5 content document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
        f'lang="{language}" xml:lang="{language}">\n'
        f'<head>\n<meta charset="UTF-8"/>\n<title>{xml_text(title)}</title>\n</head>\n'
        f"<body>\n{body}</body>\n</html>\n"
    )


def _nav(book: Book) -> str:
    entries = "".join(
        f'<li><a href="{xml_text(d.name)}">{xml_text(d.title)}</a></li>\n' for d in book.documents
    )
    body = f'<nav epub:type="toc" id="toc">\n<h1>Indice</h1>\n<ol>\n{entries}</ol>\n</nav>\n'
    return page("Indice", body, book.language)


def _package(book: Book) -> str:
    items = "".join(
        f'<item id="d{n}" href="{xml_text(d.name)}" media-type="application/xhtml+xml"/>\n'
        for n, d in enumerate(book.documents, start=1)
    )
    spine = "".join(f'<itemref idref="d{n}"/>\n' for n in range(1, len(book.documents) + 1))
    modified = book.modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        f'unique-identifier="book-id" xml:lang="{book.language}">\n'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f'<dc:identifier id="book-id">{xml_text(book.identifier)}</dc:identifier>\n'
        f"<dc:title>{xml_text(book.title)}</dc:title>\n"
        f"<dc:language>{book.language}</dc:language>\n"
        f"<dc:publisher>{xml_text(book.publisher)}</dc:publisher>\n"
        f"<dc:rights>{xml_text(book.rights)}</dc:rights>\n"
        f"<dc:date>{modified}</dc:date>\n"
        f'<meta property="dcterms:modified">{modified}</meta>\n'
        "</metadata>\n<manifest>\n"
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>\n'
        f"{items}</manifest>\n<spine>\n{spine}</spine>\n</package>\n"
    )


def _add(archive: zipfile.ZipFile, name: str, data: str, *, stored: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data.encode("utf-8"), compresslevel=9)


def write_epub(book: Book) -> bytes:
    """The EPUB file of ``book``: the same book, the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        _add(archive, "mimetype", MEDIA_TYPE, stored=True)  # first, and stored: the spec
        _add(archive, "META-INF/container.xml", CONTAINER_XML)
        _add(archive, "EPUB/package.opf", _package(book))
        _add(archive, "EPUB/nav.xhtml", _nav(book))
        for document in book.documents:
            xhtml = page(document.title, document.body, book.language)
            _add(archive, f"EPUB/{document.name}", xhtml, stored=document.stored)
    return out.getvalue()


class _XhtmlWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, close: bool) -> None:
        rendered = "".join(
            f' {name}="{xml_text(value or name, quote=True)}"' for name, value in attrs
        )
        if close or tag in _VOID:
            self.parts.append(f"<{tag}{rendered}/>")
        else:
            self.parts.append(f"<{tag}{rendered}>")
            self.open.append(tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, close=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, close=True)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.open:
            return  # a stray end tag: markdown-it writes none, and XHTML cannot hold it
        while self.open:
            last = self.open.pop()
            self.parts.append(f"</{last}>")
            if last == tag:
                break

    def handle_data(self, data: str) -> None:
        self.parts.append(xml_text(data))

    def close(self) -> None:
        super().close()
        self.parts.extend(f"</{tag}>" for tag in reversed(self.open))
        self.open.clear()


def xhtml_fragment(html: str) -> str:
    """``html`` (a fragment, as markdown-it writes it) as well-formed XHTML."""
    writer = _XhtmlWriter()
    writer.feed(html)
    writer.close()
    return "".join(writer.parts)
