"""Atom feeds (items and numeri), iCalendar file and sitemap of the bulletin, as plain
functions; the Atom writer itself is greenweb.atom, shared with the board."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from greenweb import atom
from greenweb.bulletin.items import Item
from greenweb.bulletin.numeri import Numero
from greenweb.italian import ROME

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_TITLE = "Bollettino dell'impatto sociale a Torino"


# An empty feed's `updated`: before anything the bulletin holds.
_NO_UPDATE = datetime(2021, 1, 1, tzinfo=UTC)


def atom_feed(items: Sequence[Item], *, base_url: str, item_url: str, feed_url: str) -> bytes:
    """An Atom 1.0 document; ``item_url`` has a ``{slug}`` placeholder."""
    updated = max((item.updated_at for item in items), default=_NO_UPDATE)
    root = atom.feed(
        FEED_TITLE,
        feed_id=f"{base_url}/",
        alternate=f"{base_url}/",
        feed_url=feed_url,
        updated=updated,
    )
    for item in items:
        # Seed items carry no publication date; `updated` is when greenweb last imported a
        # change, which is the only honest timestamp we have.
        entry = atom.entry(
            root, item_url.format(slug=item.slug), item.title, item.updated_at, item.published
        )
        if item.author:
            atom.sub(atom.sub(entry, "author"), "name", item.author)
        atom.sub(entry, "category", term=item.kind, label=item.kind_label)
        for tag in item.tags:
            atom.sub(entry, "category", term=tag)
        atom.sub(entry, "summary", item.summary)
        atom.sub(entry, "content", item.body_html, type="html")
    return atom.to_bytes(root)


NUMERI_FEED_TITLE = "Numeri del bollettino dell'impatto sociale a Torino"


def _numero_html(numero: Numero, item_url: str) -> str:
    """A numero as its feed entry carries it: the introduction, then each item's title
    (linked while the item is published) and summary."""
    parts = [numero.intro_html]
    for entry in numero.entries:
        title = html.escape(entry.facts.title)
        if entry.current_slug is not None:
            href = html.escape(item_url.format(slug=entry.current_slug))
            title = f'<a href="{href}">{title}</a>'
        parts.append(f"<h2>{title}</h2>\n<p>{html.escape(entry.facts.summary)}</p>\n")
    return "".join(parts)


def numeri_atom_feed(
    numeri: Sequence[Numero],
    *,
    archive_url: str,
    numero_url: str,
    item_url: str,
    feed_url: str,
) -> bytes:
    """An Atom 1.0 document of published numeri; ``numero_url`` has a ``{number}``
    placeholder, ``item_url`` a ``{slug}`` one."""
    updated = max((numero.updated_at for numero in numeri), default=_NO_UPDATE)
    root = atom.feed(
        NUMERI_FEED_TITLE,
        feed_id=archive_url,
        alternate=archive_url,
        feed_url=feed_url,
        updated=updated,
    )
    for numero in numeri:
        # The numero's own date, as items give theirs: a numero from a file that gives none
        # (the seed) has none, and its import time is no publication date.
        url = numero_url.format(number=numero.number)
        entry = atom.entry(root, url, numero.title, numero.updated_at, numero.issued)
        atom.sub(entry, "summary", numero.summary)
        atom.sub(entry, "content", _numero_html(numero, item_url), type="html")
    return atom.to_bytes(root)


# --- iCalendar (RFC 5545) ---------------------------------------------------------------


def ical_escape(text: str) -> str:
    """TEXT value escaping of RFC 5545 section 3.3.11."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line at ``limit`` octets without splitting a UTF-8 character.

    Continuation lines start with one space, which counts towards their ``limit`` octets.
    Works on the UTF-8 bytes, backing off from a cut that would land inside a character
    (a continuation byte is 0b10xxxxxx): the same greedy result as adding characters one
    by one, in a fraction of the time for long descriptions.
    """
    data = line.encode()
    if len(data) <= limit:
        return line
    out: list[str] = []
    start, room = 0, limit
    while start < len(data):
        end = min(start + room, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        if end == start:  # a limit smaller than one character: give it a line of its own
            end += 1
            while end < len(data) and data[end] & 0xC0 == 0x80:
                end += 1
        out.append(data[start:end].decode())
        start, room = end, limit - 1
    return "\r\n ".join(out)


def _ical_when(value: date | datetime) -> tuple[str, str]:
    """(parameter suffix, value) for DTSTART/DTEND."""
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=ROME) if value.tzinfo is None else value
        return "", aware.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return ";VALUE=DATE", value.strftime("%Y%m%d")


def _event(
    uid: str,
    stamp: datetime,
    start: date | datetime,
    end: date | datetime | None,
    summary: str,
    description: str,
    url: str,
    location: str | None,
) -> list[str]:
    if end is None:
        end = start + timedelta(hours=1) if isinstance(start, datetime) else start + timedelta(1)
    elif not isinstance(end, datetime):
        end = end + timedelta(days=1)  # DTEND of an all-day event is exclusive
    start_param, start_value = _ical_when(start)
    end_param, end_value = _ical_when(end)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{atom.utc(stamp).strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART{start_param}:{start_value}",
        f"DTEND{end_param}:{end_value}",
        f"SUMMARY:{ical_escape(summary)}",
        f"DESCRIPTION:{ical_escape(description)}",
        f"URL:{url}",
    ]
    if location:
        lines.append(f"LOCATION:{ical_escape(location)}")
    lines.append("END:VEVENT")
    return lines


def icalendar(items: Iterable[Item], *, item_url: str, base_url: str) -> str:
    """Events (with their times) and deadlines (all-day) of the bulletin."""
    host = urlsplit(base_url).hostname or "greenweb"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{atom.SITE_NAME}//Bollettino//IT",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical_escape(FEED_TITLE)}",
        "X-WR-TIMEZONE:Europe/Rome",
    ]
    for item in items:
        url = item_url.format(slug=item.slug)
        if item.kind == "evento" and item.starts is not None:
            lines += _event(
                f"{item.slug}-evento@{host}",
                item.updated_at,
                item.starts,
                item.ends,
                item.title,
                item.summary,
                url,
                item.place,
            )
        if item.deadline is not None:
            lines += _event(
                f"{item.slug}-scadenza@{host}",
                item.updated_at,
                item.deadline,
                None,
                f"Scadenza: {item.title}",
                item.summary,
                url,
                None,
            )
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def sitemap(urls: Iterable[tuple[str, datetime | None]]) -> bytes:
    ET.register_namespace("", SITEMAP_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for loc, modified in urls:
        url = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = loc
        if modified is not None:
            lastmod = atom.utc(modified).date().isoformat()
            ET.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = lastmod
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
