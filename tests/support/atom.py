"""Atom feeds read back (xml.etree): every feed and entry has an id, a date and absolute
links, or the parse fails saying which."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

NS = {"a": "http://www.w3.org/2005/Atom"}
ABSOLUTE = ("http://", "https://")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    link: str
    updated: datetime
    content: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    alternate: str
    self_link: str
    updated: datetime
    entries: list[Entry]


def _date(element: ET.Element, where: str) -> datetime:
    text = element.findtext("a:updated", namespaces=NS)
    assert text, f"{where}: no <updated>"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _link(element: ET.Element, rel: str, where: str) -> str:
    for link in element.findall("a:link", NS):
        if link.get("rel", "alternate") == rel:
            href = link.get("href") or ""
            assert href.startswith(ABSOLUTE), f"{where}: {rel} link {href!r} is not absolute"
            return href
    raise AssertionError(f"{where}: no {rel} link")


def parse_feed(body: bytes) -> Feed:
    root = ET.fromstring(body)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    feed_id = root.findtext("a:id", namespaces=NS)
    assert feed_id, "the feed has no <id>"
    entries = []
    for n, element in enumerate(root.findall("a:entry", NS)):
        entry_id = element.findtext("a:id", namespaces=NS)
        assert entry_id and entry_id.startswith(ABSOLUTE), f"entry {n}: id {entry_id!r}"
        entries.append(
            Entry(
                id=entry_id,
                title=element.findtext("a:title", namespaces=NS) or "",
                link=_link(element, "alternate", f"entry {n}"),
                updated=_date(element, f"entry {n}"),
                content=element.findtext("a:content", namespaces=NS) or "",
            )
        )
    assert len({e.id for e in entries}) == len(entries), "two entries share an id"
    return Feed(
        id=feed_id,
        title=root.findtext("a:title", namespaces=NS) or "",
        alternate=_link(root, "alternate", "feed"),
        self_link=_link(root, "self", "feed"),
        updated=_date(root, "feed"),
        entries=entries,
    )
