"""What a visitor does, in a real Chromium with JavaScript disabled.

Every step is a click, a key press or a form submission a person could make; the assertions
read what the page shows. Nothing here runs JavaScript in the page.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from greenweb.bulletin.items import KINDS
from greenweb.italian import format_date, format_euro

if TYPE_CHECKING:  # playwright may be missing: the fixtures then skip (or fail in CI)
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SEARCH_WITH_ACCENT = "sostenibilità"
SEARCH_WITHOUT_ACCENT = "sostenibilita"


def path_and_query(page: Page) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(page.url)
    return parts.path, parse_qs(parts.query)


def card_titles(page: Page) -> list[str]:
    return page.locator("main article.card h2 a").all_inner_texts()


def facts(page: Page) -> dict[str, str]:
    """The item page's "In breve" box as {term: description}."""
    box = page.locator("aside.facts dl")
    terms = box.locator("dt").all_inner_texts()
    descriptions = box.locator("dd").all_inner_texts()
    assert len(terms) == len(descriptions)
    return dict(zip(terms, descriptions, strict=True))


def test_visitor_reads_the_home_page(visitor: Page, server: Any) -> None:
    response = visitor.goto("/")
    assert response is not None and response.status == 200
    assert visitor.title() == "Bollettino dell'impatto sociale · greenweb"
    assert visitor.locator("h1").inner_text() == "Bollettino dell'impatto sociale a Torino"
    headings = visitor.locator("main h2").all_inner_texts()
    assert headings[:3] == ["Scadenze aperte", "Prossimi eventi", "Dal bollettino"]
    open_calls = visitor.locator("section[aria-labelledby=h-bandi] li")
    assert open_calls.count() == 5
    assert "mancano" in open_calls.first.inner_text()
    assert visitor.locator("section[aria-labelledby=h-eventi] li").count() == 3
    nav = visitor.get_by_role("navigation", name="Sezioni")
    assert nav.get_by_role("link").all_inner_texts() == [
        "Bollettino",
        "Scadenze",
        "Eventi",
        "Dubbi sul clima",
        "Risorse",
    ]


def test_visitor_opens_a_call_from_the_home_page_and_sees_its_key_facts(
    visitor: Page, server: Any
) -> None:
    call = server.first_generated("bando")
    visitor.goto("/")
    visitor.get_by_role("region", name="Scadenze aperte").get_by_role(
        "link", name=call.title
    ).click()
    assert urlsplit(visitor.url).path == f"/bollettino/{call.slug}"
    assert visitor.locator("h1").inner_text() == call.title
    assert visitor.locator("main .kind").first.text_content() == "Bando"
    box = facts(visitor)
    assert box["Scadenza"].startswith(f"{format_date(call.facts['deadline'])} · ")
    assert re.search(r"mancano \d+ giorni|scade (oggi|domani)", box["Scadenza"])
    low, high = call.facts["amount_min"], call.facts["amount_max"]
    assert box["Importi"] == f"da {format_euro(low)} a {format_euro(high)}"
    assert box["Promotori"] == call.facts["organisers"][0]
    email = call.facts["contact_email"]
    contact = visitor.locator("aside.facts").get_by_role("link", name=email)
    assert contact.get_attribute("href") == f"mailto:{email}"
    # The way back to the list is a plain link.
    visitor.get_by_role("link", name="← Tutto il bollettino").click()
    assert urlsplit(visitor.url).path == "/bollettino"


def test_visitor_opens_a_seed_call_from_the_kind_filter_and_sees_amounts_and_budget(
    visitor: Page, server: Any
) -> None:
    visitor.goto("/bollettino")
    visitor.get_by_role("navigation", name="Filtra per tipo").get_by_role(
        "link", name="Bandi"
    ).click()
    # The call is on the unfiltered list too: wait for the filtered one before clicking it.
    visitor.wait_for_url(lambda url: "tipo=" in urlsplit(url).query)
    visitor.get_by_role("link", name="Al via la nuova edizione della Call Tecnologie").click()
    visitor.wait_for_url(lambda url: urlsplit(url).path.endswith("-sviluppo-sostenibile"))
    assert urlsplit(visitor.url).path == "/bollettino/call-tecnologie-sviluppo-sostenibile"
    box = facts(visitor)
    assert box["Scadenza"] == "15 settembre 2021 · scaduto"
    assert box["Apertura"] == "15 giugno 2021"
    assert box["Importi"] == "da 15.000 euro a 50.000 euro"
    assert box["Budget complessivo"] == "500.000 euro"
    assert box["Promotori"] == "Fondazione Compagnia di San Paolo, Fondazione Cariplo"


def search_results(page: Page) -> tuple[str, list[str]]:
    status = page.get_by_role("status").inner_text()
    return status, page.locator("main article.card h3 a").all_inner_texts()


def test_search_finds_the_same_items_with_and_without_accents(visitor: Page, server: Any) -> None:
    visitor.goto("/")
    visitor.get_by_label("Cerca nel sito").fill(SEARCH_WITH_ACCENT)
    visitor.get_by_label("Cerca nel sito").press("Enter")
    path, query = path_and_query(visitor)
    assert (path, query) == ("/cerca", {"q": [SEARCH_WITH_ACCENT]})
    status_accent, titles_accent = search_results(visitor)
    assert titles_accent, "a search for sostenibilità found nothing"
    assert visitor.locator("main article.card mark").count() >= 1

    # The search page keeps the words typed, in its own labelled field.
    field = visitor.get_by_label("Parole da cercare")
    assert field.input_value() == SEARCH_WITH_ACCENT
    field.fill(SEARCH_WITHOUT_ACCENT)
    visitor.locator("main").get_by_role("button", name="Cerca").click()
    assert path_and_query(visitor) == ("/cerca", {"q": [SEARCH_WITHOUT_ACCENT]})
    status_plain, titles_plain = search_results(visitor)
    assert titles_plain == titles_accent
    count = re.compile(r"^(\d+) risultat[oi] per ")
    match_accent, match_plain = count.match(status_accent), count.match(status_plain)
    assert match_accent and match_plain
    assert match_accent.group(1) == match_plain.group(1)


def test_search_without_results_says_so(visitor: Page, server: Any) -> None:
    visitor.goto("/cerca")
    visitor.get_by_label("Parole da cercare").fill("zanzibar")
    visitor.get_by_label("Parole da cercare").press("Enter")
    assert visitor.get_by_role("status").inner_text() == "Nessun risultato per «zanzibar»."
    assert card_titles(visitor) == []


def test_visitor_follows_pagination_to_page_two_and_back(visitor: Page, server: Any) -> None:
    visitor.goto("/bollettino")
    pager = visitor.get_by_role("navigation", name="Pagine")
    assert pager.inner_text().count("Pagina 1 di 3") == 1
    first_page = card_titles(visitor)
    assert len(first_page) == 20

    pager.get_by_role("link", name="Successiva →").click()
    assert path_and_query(visitor) == ("/bollettino", {"page": ["2"]})
    assert "Pagina 2 di 3" in visitor.get_by_role("navigation", name="Pagine").inner_text()
    second_page = card_titles(visitor)
    assert len(second_page) == 20
    assert not set(first_page) & set(second_page)

    visitor.get_by_role("navigation", name="Pagine").get_by_role(
        "link", name="← Precedente"
    ).click()
    # Page 1 has one canonical address, without ?page=1.
    assert path_and_query(visitor) == ("/bollettino", {})
    assert card_titles(visitor) == first_page


def test_kind_filter_shows_only_that_kind_and_marks_the_current_filter(
    visitor: Page, server: Any
) -> None:
    visitor.goto("/bollettino")
    filters = visitor.get_by_role("navigation", name="Filtra per tipo")
    for kind, (singular, label) in KINDS.items():
        filters.get_by_role("link", name=label, exact=True).click()
        assert path_and_query(visitor) == ("/bollettino", {"tipo": [kind]})
        assert visitor.locator("h1").inner_text() == f"Bollettino: {label.lower()}"
        current = filters.locator("[aria-current=page]")
        assert current.all_inner_texts() == [label]
        kinds = visitor.locator("main article.card .kind").all_text_contents()
        assert kinds and set(kinds) == {singular}
        total = visitor.locator("main > p.meta").inner_text()
        assert total.startswith(f"{len(kinds)} element")
    filters.get_by_role("link", name="Tutto").click()
    assert path_and_query(visitor) == ("/bollettino", {})


def test_section_links_mark_the_current_section(visitor: Page, server: Any) -> None:
    visitor.goto("/")
    nav = visitor.get_by_role("navigation", name="Sezioni")
    for label, path, heading in [
        ("Scadenze", "/scadenze", "Scadenze"),
        ("Eventi", "/eventi", "Eventi"),
        ("Bollettino", "/bollettino", "Bollettino"),
    ]:
        nav.get_by_role("link", name=label).click()
        assert urlsplit(visitor.url).path == path
        assert visitor.locator("h1").inner_text() == heading
        assert nav.locator("[aria-current=page]").all_inner_texts() == [label]
    # Open calls are listed under "Aperte" on the deadlines page.
    nav.get_by_role("link", name="Scadenze").click()
    call = server.first_generated("bando")
    assert (
        visitor.get_by_role("region", name="Aperte")
        .get_by_role("link", name=call.title)
        .is_visible()
    )
