"""The one Atom 1.0 writer (RFC 4287): the bulletin's feeds and the board's build on it.

Plain functions over ``xml.etree``: a feed's head, its entries, and the bytes. Callers
give absolute URLs; an entry's id is its URL unless it says otherwise (a question's story
has several entries for one page).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import Final

ATOM_NS: Final = "http://www.w3.org/2005/Atom"
SITE_NAME: Final = "greenweb"
MEDIA_TYPE: Final = "application/atom+xml; charset=utf-8"


def utc(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def rfc3339(value: datetime) -> str:
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """An Atom element under ``parent``."""
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def feed(
    title: str, *, feed_id: str, alternate: str, feed_url: str, updated: datetime
) -> ET.Element:
    """The head of an Atom 1.0 feed; its entries follow."""
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": "it"})
    sub(root, "id", feed_id)
    sub(root, "title", title)
    sub(root, "link", rel="alternate", type="text/html", href=alternate)
    sub(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    sub(root, "updated", rfc3339(updated))
    sub(sub(root, "author"), "name", SITE_NAME)
    return root


def entry(
    parent: ET.Element,
    url: str,
    title: str,
    updated: datetime,
    published: date | datetime | None,
    *,
    entry_id: str | None = None,
) -> ET.Element:
    """An entry with its id (``url`` unless ``entry_id``), title, link and dates; the
    caller adds the rest."""
    element = sub(parent, "entry")
    sub(element, "id", entry_id or url)
    sub(element, "title", title)
    sub(element, "link", rel="alternate", type="text/html", href=url)
    sub(element, "updated", rfc3339(updated))
    if isinstance(published, datetime):
        sub(element, "published", rfc3339(published))
    elif published is not None:
        sub(element, "published", f"{published.isoformat()}T00:00:00Z")
    return element


def to_bytes(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
