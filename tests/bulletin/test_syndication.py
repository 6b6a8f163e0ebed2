"""Atom, iCalendar, sitemap, robots.txt and /healthz, each parsed back and checked."""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from greenweb.bulletin.syndication import fold, ical_escape
from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.site import site_of
from support import SEED_TODAY, import_seed, make_settings
from support.factory import write_item

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LONG_TITLE = (
    "Perché è così difficile, più di quanto sembri: città, comunità e sostenibilità "
    "nell'economia sociale torinese; un'analisi àèéìòù in più parti \\ con barre"
)


def updated_at(settings: Settings) -> dict[str, str]:
    conn = sqlite3.connect(settings.db_path)
    try:
        return dict(conn.execute("SELECT slug, updated_at FROM bulletin_item").fetchall())
    finally:
        conn.close()


@pytest.fixture
def special_client(tmp_path: Path) -> Iterator[TestClient]:
    """Items whose text needs escaping in XML and iCalendar."""
    folder = tmp_path / "special"
    write_item(
        folder,
        "01.md",
        slug="caratteri",
        title="Ricerca & sviluppo <beta> \"virgolette\" 'apici'",
        kind="evento",
        starts=datetime(2021, 12, 1, 9, 30),
        ends=datetime(2021, 12, 1, 12, 0),
        where="Sala 1, piano 2; Torino \\ centro",
        published=date(2021, 9, 1),
        author="Ada & Co",
        body="Prima riga, con virgola; punto e virgola.\n\nSeconda <riga> & altro.",
    )
    write_item(
        folder,
        "02.md",
        slug="titolo-lungo",
        title=LONG_TITLE,
        kind="bando",
        position=2,
        deadline=date(2021, 12, 24),
        body="Un bando con un titolo molto lungo.",
    )
    write_item(
        folder,
        "03.md",
        slug="giornata",
        title="Giornata intera",
        kind="evento",
        position=3,
        starts=date(2021, 10, 2),
        ends=date(2021, 10, 3),
        body="Due giorni.",
    )
    settings = make_settings(tmp_path)
    import_seed(settings, folder)
    with TestClient(create_app_for(settings)) as client:
        yield client


def create_app_for(settings: Settings) -> Starlette:
    return create_app(settings, today=lambda: SEED_TODAY)


# --- Atom ------------------------------------------------------------------------------------


def feed(client: TestClient) -> ET.Element:
    response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(response.content)


def test_feed_has_twelve_entries_each_complete(
    client: TestClient, seeded_settings: Settings
) -> None:
    root = feed(client)
    assert root.tag == f"{ATOM}feed"
    assert root.get(XML_LANG) == "it"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 12
    stored = updated_at(seeded_settings)
    slugs = []
    for entry in entries:
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("rel") == "alternate"
        href = link.get("href", "")
        slug = href.removeprefix("http://testserver/bollettino/")
        slugs.append(slug)
        assert entry.findtext(f"{ATOM}id") == href
        assert entry.findtext(f"{ATOM}title")
        updated = entry.findtext(f"{ATOM}updated") or ""
        assert RFC3339_UTC.match(updated), updated
        assert datetime.fromisoformat(updated) == datetime.fromisoformat(stored[slug])
        assert entry.find(f"{ATOM}published") is None  # the seed gives no dates
        content = entry.find(f"{ATOM}content")
        assert content is not None and content.get("type") == "html"
        assert (content.text or "").startswith("<")
        assert entry.findtext(f"{ATOM}summary")
        kinds = [c.get("term") for c in entry.findall(f"{ATOM}category")]
        assert kinds[0] in {"bando", "premio", "evento", "notizia"}
        assert client.get(href.removeprefix("http://testserver")).status_code == 200
    assert len(set(slugs)) == 12


def test_feed_head_identifies_itself(client: TestClient) -> None:
    root = feed(client)
    assert root.findtext(f"{ATOM}id") == "http://testserver/"
    assert root.findtext(f"{ATOM}title") == "Bollettino dell'impatto sociale a Torino"
    assert RFC3339_UTC.match(root.findtext(f"{ATOM}updated") or "")
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"alternate": "http://testserver/", "self": "http://testserver/feed.xml"}
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "greenweb"
    newest = max(e.findtext(f"{ATOM}updated") or "" for e in root.findall(f"{ATOM}entry"))
    assert root.findtext(f"{ATOM}updated") == newest


def test_feed_is_valid_xml_with_ampersands_and_angle_brackets(
    special_client: TestClient,
) -> None:
    entry = feed(special_client).findall(f"{ATOM}entry")[0]
    assert entry.findtext(f"{ATOM}title") == "Ricerca & sviluppo <beta> \"virgolette\" 'apici'"
    assert entry.findtext(f"{ATOM}published") == "2021-09-01T00:00:00Z"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Ada & Co"
    content = entry.findtext(f"{ATOM}content") or ""
    assert "<p>Seconda &lt;riga&gt; &amp; altro.</p>" in content


def test_feed_is_capped_at_thirty_entries(generated_client: TestClient) -> None:
    assert len(feed(generated_client).findall(f"{ATOM}entry")) == 30


# --- iCalendar -----------------------------------------------------------------------------


def unfold(body: str) -> list[str]:
    """RFC 5545 3.1: a CRLF followed by one space or tab continues the previous line."""
    lines: list[str] = []
    for line in body.split("\r\n"):
        if line[:1] in {" ", "\t"} and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    assert lines[-1] == "", "the body must end with CRLF"
    return lines[:-1]


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def events(lines: list[str]) -> list[dict[str, str]]:
    """Each VEVENT as {property name with parameters: value}."""
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            name, value = line.split(":", 1)
            assert name not in current, f"{name} twice"
            current[name] = value
    return found


def calendar(client: TestClient) -> tuple[bytes, list[str]]:
    response = client.get("/calendario.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    body = response.content
    return body, unfold(body.decode("utf-8"))


def assert_well_formed(body: bytes) -> None:
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in body.replace(b"\r\n", b""), "bare CR"
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, (len(line), line)


def test_calendar_lines_end_in_crlf_and_fit_in_75_octets(client: TestClient) -> None:
    body, lines = calendar(client)
    assert_well_formed(body)
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert lines[-1] == "END:VCALENDAR"
    assert any(line.startswith("PRODID:") for line in lines)


def test_calendar_has_the_two_events_and_five_deadlines(client: TestClient) -> None:
    _, lines = calendar(client)
    found = events(lines)
    assert len(found) == 7
    assert len({event["UID"] for event in found}) == 7
    for event in found:
        assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
        assert event["URL"].startswith("http://testserver/bollettino/")


def test_event_times_are_utc(client: TestClient) -> None:
    _, lines = calendar(client)
    by_uid = {event["UID"]: event for event in events(lines)}
    bottega = by_uid["bottega-digitale-per-la-pmi-evento@testserver"]
    assert bottega["DTSTART"] == "20210520T150000Z"  # 17:00 in Rome, summer time
    assert bottega["DTEND"] == "20210520T160000Z"
    assert unescape(bottega["SUMMARY"]) == (
        "Riparte “La Bottega Digitale per la PMI” – Evento di lancio"
    )
    assert bottega["LOCATION"] == "Webinar su Microsoft Teams"
    assert bottega["URL"] == "http://testserver/bollettino/bottega-digitale-per-la-pmi"
    digital = by_uid["digital-transformation-incentivi-evento@testserver"]
    assert digital["DTSTART"] == "20210518T080000Z"
    assert digital["DTEND"] == "20210518T090000Z"  # no end given: one hour


def test_deadlines_are_all_day_events(client: TestClient) -> None:
    _, lines = calendar(client)
    deadlines = {e["UID"]: e for e in events(lines) if "-scadenza@" in e["UID"]}
    assert len(deadlines) == 5
    photo = deadlines["italian-sustainability-photo-award-scadenza@testserver"]
    assert photo["DTSTART;VALUE=DATE"] == "20210906"
    assert photo["DTEND;VALUE=DATE"] == "20210907"
    assert unescape(photo["SUMMARY"]) == "Scadenza: Italian Sustainability Photo Award"
    for event in deadlines.values():
        assert "DTSTART" not in event and "DTSTART;VALUE=DATE" in event


def test_calendar_escapes_text_per_rfc_5545(special_client: TestClient) -> None:
    body, lines = calendar(special_client)
    assert_well_formed(body)
    by_uid = {e["UID"]: e for e in events(lines)}
    event = by_uid["caratteri-evento@testserver"]
    assert event["LOCATION"] == "Sala 1\\, piano 2\\; Torino \\\\ centro"
    assert unescape(event["LOCATION"]) == "Sala 1, piano 2; Torino \\ centro"
    assert event["DTSTART"] == "20211201T083000Z"  # 9:30 in Rome, winter time
    assert event["DTEND"] == "20211201T110000Z"
    assert unescape(event["DESCRIPTION"]) == "Prima riga, con virgola; punto e virgola."
    # Every unescaped comma or semicolon in a TEXT value would split it into a list.
    for e in by_uid.values():
        for name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
            assert not re.search(r"(?<!\\)(?:\\\\)*[,;]", e.get(name, "")), (name, e.get(name))


def test_a_long_accented_title_folds_and_unfolds_intact(special_client: TestClient) -> None:
    body, lines = calendar(special_client)
    assert_well_formed(body)
    assert b"\r\n " in body
    by_uid = {e["UID"]: e for e in events(lines)}
    deadline = by_uid["titolo-lungo-scadenza@testserver"]
    assert unescape(deadline["SUMMARY"]) == f"Scadenza: {LONG_TITLE}"
    assert deadline["DTSTART;VALUE=DATE"] == "20211224"
    body.decode("utf-8")  # no character was cut in half


def test_an_all_day_event_ends_the_day_after_its_last_day(special_client: TestClient) -> None:
    _, lines = calendar(special_client)
    day = {e["UID"]: e for e in events(lines)}["giornata-evento@testserver"]
    assert day["DTSTART;VALUE=DATE"] == "20211002"
    assert day["DTEND;VALUE=DATE"] == "20211004"  # DTEND is exclusive


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("semplice", "semplice"),
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\nb"),
        ("a\rb", "a\\nb"),
        ("\\,", "\\\\\\,"),
        ("a:b", "a:b"),  # colons need no escaping in a value
    ],
)
def test_ical_escape(text: str, escaped: str) -> None:
    assert ical_escape(text) == escaped


def test_fold_leaves_short_lines_alone() -> None:
    assert fold("a" * 75) == "a" * 75
    assert fold("") == ""


def test_fold_cuts_at_75_octets() -> None:
    assert fold("a" * 76) == "a" * 75 + "\r\n a"
    folded = fold("a" * 200)
    assert [len(p) for p in folded.split("\r\n")] == [75, 75, 52]  # 75 + 74 + 51 = 200


def test_fold_never_splits_a_utf8_character() -> None:
    folded = fold("é" * 80)  # 160 octets
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert parts[0] == "é" * 37  # 74 octets: a 38th would make 76
    assert "".join(p.removeprefix(" ") if i else p for i, p in enumerate(parts)) == "é" * 80
    emoji = fold("x" + "🌍" * 30)
    assert all(len(p.encode()) <= 75 for p in emoji.split("\r\n"))


@given(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=400))
def test_fold_then_unfold_is_the_identity(text: str) -> None:
    folded = fold(text)
    for part in folded.split("\r\n"):
        assert len(part.encode()) <= 75
    assert unfold(folded + "\r\n") == [text]


def fold_by_characters(line: str, limit: int = 75) -> str:
    """RFC 5545, 3.1, character by character: lines of at most ``limit`` octets, each
    continuation starting with a space."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_fold_matches_the_character_by_character_definition(line: str) -> None:
    assert fold(line) == fold_by_characters(line)


@given(st.text(alphabet="aè’€😀 ", max_size=300), st.integers(min_value=5, max_value=80))
def test_fold_never_exceeds_the_limit_nor_splits_a_character(line: str, limit: int) -> None:
    folded = fold(line, limit)
    assert folded == fold_by_characters(line, limit)
    for part in folded.split("\r\n"):
        assert len(part.encode()) <= limit
    assert folded.replace("\r\n ", "") == line


def test_short_lines_are_left_alone() -> None:
    assert fold("SUMMARY:Bando") == "SUMMARY:Bando"
    assert fold("") == ""


@given(st.text(max_size=200))
def test_ical_escape_then_unescape_is_the_identity_up_to_line_ends(text: str) -> None:
    escaped = ical_escape(text)
    assert "\n" not in escaped and "\r" not in escaped
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert unescape(escaped) == expected


# --- sitemap, robots, health ------------------------------------------------------------


def test_sitemap_lists_the_sections_and_all_twelve_items(
    client: TestClient, seeded_settings: Settings
) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{SITEMAP}urlset"
    urls = {
        u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod")
        for u in root.findall(f"{SITEMAP}url")
    }
    stored = updated_at(seeded_settings)
    for slug, when in stored.items():
        assert urls[f"http://testserver/bollettino/{slug}"] == when[:10]
    for page in ("/", "/bollettino", "/scadenze", "/eventi"):
        assert f"http://testserver{page}" in urls
    numeri = [loc for loc in urls if (loc or "").startswith("http://testserver/bollettino/numeri")]
    items = [
        loc
        for loc in urls
        if (loc or "").startswith("http://testserver/bollettino/") and loc not in numeri
    ]
    assert len(items) == 12
    # The archive of numeri is a section; numero 1 (the seed's numeri.toml) has its page.
    assert numeri == [
        "http://testserver/bollettino/numeri",
        "http://testserver/bollettino/numeri/1",
    ]
    sections = site_of(client.app).sitemap_pages
    assert len(urls) == len(sections) + 12 + 1
    for loc in urls:
        path = (loc or "").removeprefix("http://testserver")
        assert client.get(path).status_code == 200, loc


def test_robots_txt_names_the_sitemap(client: TestClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "User-agent: *" in response.text
    assert "Sitemap: http://testserver/sitemap.xml" in response.text.splitlines()


def test_healthz_reports_ok_and_the_item_count(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body == {"status": "ok", "bulletin_items": 12, "pid": body["pid"]}
    assert isinstance(body["pid"], int)  # tells the workers of `serve --workers N` apart


def test_base_url_is_used_for_absolute_addresses(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, base_url="https://bollettino.example.org")
    import_seed(settings)
    with TestClient(create_app_for(settings)) as client:
        root = feed(client)
        assert root.findtext(f"{ATOM}id") == "https://bollettino.example.org/"
        assert (
            "Sitemap: https://bollettino.example.org/sitemap.xml" in client.get("/robots.txt").text
        )
        assert (
            "URL:https://bollettino.example.org/bollettino/" in client.get("/calendario.ics").text
        )
