"""The bulletin's pages: every route, its template and context, Italian dates, error pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.italian import days_left_phrase, today_in_rome
from greenweb.web.app import create_app
from support import SEED_TODAY, import_seed, make_settings
from support.factory import write_item

SLUGS = [
    "esiti-bando-wonder",
    "italian-sustainability-photo-award",
    "voucher-polo-nazionale-mobilita-sostenibile",
    "horizon-europe",
    "call-tecnologie-sviluppo-sostenibile",
    "top-of-the-pid",
    "borsa-sociale-di-torino",
    "bottega-digitale-per-la-pmi",
    "digital-transformation-incentivi",
    "conversation-community",
    "adotta-una-buona-pratica",
    "torino-social-impact-european-cluster-platform",
]
DEADLINES = {
    "italian-sustainability-photo-award": date(2021, 9, 6),
    "call-tecnologie-sviluppo-sostenibile": date(2021, 9, 15),
    "top-of-the-pid": date(2021, 9, 3),
    "bottega-digitale-per-la-pmi": date(2021, 5, 19),
    "digital-transformation-incentivi": date(2021, 5, 17),
}
PAGES = {
    # path: template
    "/": "home.html",
    "/bollettino": "bulletin/list.html",
    "/bollettino?tipo=bando": "bulletin/list.html",
    "/bollettino?tag=pmi": "bulletin/list.html",
    "/bollettino?tipo=evento&tag=pmi": "bulletin/list.html",
    "/scadenze": "bulletin/deadlines.html",
    "/eventi": "bulletin/events.html",
    "/cerca": "search.html",
    "/cerca?q=bando": "search.html",
    **{f"/bollettino/{slug}": "bulletin/item.html" for slug in SLUGS},
}
ERROR_PAGES = {
    "/bollettino/non-esiste": 404,
    "/non-esiste": 404,
    "/bollettino?page=0": 400,
    "/bollettino?tipo=sconosciuto": 400,
    "/bollettino?page=2": 404,
}


def get(client: TestClient, path: str, status: int = 200, template: str | None = None) -> Any:
    response = client.get(path)
    assert response.status_code == status, (path, response.text[:500])
    if template is not None:
        assert response.template.name == template
    return response


def slugs_of(items: list[Any]) -> list[str]:
    return [item.slug for item in items]


def main_of(html: str) -> str:
    return html.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def facts_of(html: str) -> str:
    match = re.search(r'<aside class="facts".*?</aside>', html, re.S)
    assert match, "no key-facts box"
    return match.group()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture
def client_on(seeded_settings: Settings) -> Iterator[Any]:
    """A factory of clients over the seed with 'today' fixed at the given day."""
    clients: list[TestClient] = []

    def make(day: date) -> TestClient:
        client = TestClient(create_app(seeded_settings, today=lambda: day))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


# --- every route ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "template"), list(PAGES.items()))
def test_every_page_answers_with_its_template(client: TestClient, path: str, template: str) -> None:
    response = get(client, path, 200, template)
    assert response.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("path", [*PAGES, *ERROR_PAGES])
def test_every_page_is_italian_accessible_script_free_and_cookie_free(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code < 500
    html = response.text
    assert html.startswith('<!doctype html>\n<html lang="it">')
    assert '<a class="skip" href="#main">Salta al contenuto</a>' in html
    assert '<main id="main">' in html
    assert html.count("<h1") == 1
    assert "<script" not in html.lower()
    assert "set-cookie" not in response.headers
    assert re.search(r"<title>[^<]+ · greenweb</title>", html)


@pytest.mark.parametrize(("path", "status"), list(ERROR_PAGES.items()))
def test_error_pages_are_italian(client: TestClient, path: str, status: int) -> None:
    response = get(client, path, status, "error.html")
    title = {400: "Richiesta non valida", 404: "Pagina non trovata"}[status]
    assert f"<h1>{title}</h1>" in response.text
    assert response.context["status"] == status
    assert '<a href="/">Torna alla pagina iniziale</a>' in response.text


def test_head_answers_without_a_body(client: TestClient) -> None:
    response = client.head("/bollettino")
    assert response.status_code == 200
    assert response.content == b""


def test_post_to_a_page_is_405_in_italian(client: TestClient) -> None:
    response = client.post("/bollettino")
    assert response.status_code == 405
    assert "Metodo non consentito" in response.text
    assert response.headers["allow"] == "HEAD, GET" or "GET" in response.headers["allow"]
    assert "POST" not in response.headers["allow"]


# --- home -------------------------------------------------------------------------------------


def test_home_shows_open_calls_with_days_left_and_the_latest_items(client: TestClient) -> None:
    response = get(client, "/", 200, "home.html")
    context = response.context
    assert context["today"] == SEED_TODAY
    assert slugs_of(context["open_calls"]) == [
        "italian-sustainability-photo-award",
        "call-tecnologie-sviluppo-sostenibile",
    ]
    assert context["events"] == []
    assert slugs_of(context["latest"]) == SLUGS[:6]
    text = text_of(main_of(response.text))
    assert "Italian Sustainability Photo Award · Scadenza 6 settembre 2021 · mancano 2 giorni" in (
        text
    )
    assert "Nessun evento in programma." in text


def test_home_reads_well_when_nothing_is_open(client_today: TestClient) -> None:
    before = today_in_rome()
    response = get(client_today, "/", 200, "home.html")
    after = today_in_rome()  # the same day, unless the request ran across midnight
    assert response.context["open_calls"] == []
    assert any(
        f"Nessuna scadenza aperta oggi, {day.day} " in response.text for day in (before, after)
    )


def test_home_lists_upcoming_events_with_their_time(client_on: Any) -> None:
    response = get(client_on(date(2021, 5, 1)), "/", 200, "home.html")
    assert slugs_of(response.context["events"]) == [
        "digital-transformation-incentivi",
        "bottega-digitale-per-la-pmi",
    ]
    assert '<time datetime="2021-05-20T17:00:00">giovedì 20 maggio 2021, 17:00</time>' in (
        response.text
    )


# --- the list -------------------------------------------------------------------------------


def test_bulletin_lists_all_items_in_bulletin_order(client: TestClient) -> None:
    response = get(client, "/bollettino", 200, "bulletin/list.html")
    page = response.context["page"]
    assert (page.number, page.total, page.pages) == (1, 12, 1)
    assert slugs_of(page.items) == SLUGS
    assert (response.context["kind"], response.context["tag"]) == (None, None)
    assert "12 elementi" in response.text
    assert 'rel="next"' not in response.text and 'rel="prev"' not in response.text


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("bando", ["horizon-europe", "call-tecnologie-sviluppo-sostenibile"]),
        ("premio", ["italian-sustainability-photo-award", "top-of-the-pid"]),
        ("evento", ["bottega-digitale-per-la-pmi", "digital-transformation-incentivi"]),
        ("notizia", [s for i, s in enumerate(SLUGS) if i in {0, 2, 6, 9, 10, 11}]),
    ],
)
def test_bulletin_filters_by_kind(client: TestClient, kind: str, expected: list[str]) -> None:
    response = get(client, f"/bollettino?tipo={kind}", 200, "bulletin/list.html")
    assert response.context["kind"] == kind
    assert slugs_of(response.context["page"].items) == expected
    assert f'<a href="/bollettino?tipo={kind}" aria-current="page">' in response.text


def test_bulletin_filters_by_tag(client: TestClient) -> None:
    response = get(client, "/bollettino?tag=pmi", 200, "bulletin/list.html")
    assert slugs_of(response.context["page"].items) == [
        "voucher-polo-nazionale-mobilita-sostenibile",
        "bottega-digitale-per-la-pmi",
        "digital-transformation-incentivi",
    ]
    assert "Bollettino su «pmi»" in response.text


def test_bulletin_filters_by_an_accented_tag(client: TestClient) -> None:
    response = get(client, "/bollettino?tag=sostenibilit%C3%A0", 200, "bulletin/list.html")
    assert slugs_of(response.context["page"].items) == [
        "italian-sustainability-photo-award",
        "conversation-community",
    ]


def test_bulletin_filters_by_kind_and_tag_together(client: TestClient) -> None:
    response = get(client, "/bollettino?tipo=evento&tag=pmi", 200, "bulletin/list.html")
    assert slugs_of(response.context["page"].items) == [
        "bottega-digitale-per-la-pmi",
        "digital-transformation-incentivi",
    ]
    # The kind links keep the tag, and "Tutto" drops only the kind.
    assert 'href="/bollettino?tipo=bando&amp;tag=pmi"' in response.text
    assert 'href="/bollettino?tag=pmi"' in response.text


def test_kind_links_on_a_tag_page_never_lead_to_an_error(client: TestClient) -> None:
    html = get(client, "/bollettino?tag=fotografia").text
    links = re.findall(r'href="(/bollettino\?[^"]*tag=fotografia[^"]*)"', html)
    assert len(links) >= 5
    # The page itself is in the page cache now: only the other addresses reach the view.
    others = dict.fromkeys(link.replace("&amp;", "&") for link in links)
    others.pop("/bollettino?tag=fotografia", None)
    for link in others:
        response = get(client, link, 200, "bulletin/list.html")
        if "tipo=bando" in link:
            assert response.context["page"].items == []
            assert "Nessun elemento." in response.text


def test_an_unknown_tag_is_404(client: TestClient) -> None:
    response = get(client, "/bollettino?tag=inesistente", 404, "error.html")
    assert "etichetta" in response.text


def test_an_overlong_tag_is_400(client: TestClient) -> None:
    get(client, "/bollettino?tag=" + "x" * 41, 400, "error.html")


def test_an_unknown_kind_is_400_naming_the_choices(client: TestClient) -> None:
    response = get(client, "/bollettino?tipo=concorsi", 400, "error.html")
    assert "Tipo sconosciuto" in response.text


@pytest.mark.parametrize("raw", ["0", "abc", "-1", "99999999", "1.5", "%201", "1e3", "%EF%BC%92"])
def test_a_bad_page_number_is_400(client: TestClient, raw: str) -> None:
    response = get(client, f"/bollettino?page={raw}", 400, "error.html")
    assert "numero di pagina" in response.text


@pytest.mark.parametrize(
    "path", ["/bollettino?page=2", "/bollettino?page=100000", "/bollettino?tipo=bando&page=2"]
)
def test_a_page_past_the_end_is_404(client: TestClient, path: str) -> None:
    get(client, path, 404, "error.html")


# --- the item page ------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_item_page_shows_its_item(client: TestClient, slug: str) -> None:
    response = get(client, f"/bollettino/{slug}", 200, "bulletin/item.html")
    item = response.context["item"]
    assert item.slug == slug
    assert response.context["today"] == SEED_TODAY
    assert "<h1>" in response.text
    assert '<div class="body">' in response.text
    assert '<a href="/bollettino">← Tutto il bollettino</a>' in response.text


@pytest.mark.parametrize("slug", list(DEADLINES))
def test_key_facts_say_whether_a_deadline_is_still_open(client: TestClient, slug: str) -> None:
    facts = text_of(facts_of(get(client, f"/bollettino/{slug}").text))
    left = (DEADLINES[slug] - SEED_TODAY).days
    phrase = {2: "mancano 2 giorni", 11: "mancano 11 giorni"}.get(left, "scaduto")
    deadline = DEADLINES[slug]
    assert f"{deadline.day} " in facts and f" {deadline.year} · {phrase}" in facts


@pytest.mark.parametrize("slug", list(DEADLINES))
def test_key_facts_on_the_real_date(client_today: TestClient, slug: str) -> None:
    facts = text_of(facts_of(get(client_today, f"/bollettino/{slug}").text))
    expected = days_left_phrase((DEADLINES[slug] - today_in_rome()).days)
    assert f"· {expected}" in facts
    assert expected == "scaduto"  # every seed deadline is in 2021


KEY_FACTS = {
    "call-tecnologie-sviluppo-sostenibile": (
        "open",
        [
            "Scadenza 15 settembre 2021 · mancano 11 giorni",
            "Apertura 15 giugno 2021",
            "Importi da 15.000 euro a 50.000 euro",
            "Budget complessivo 500.000 euro",
            "Promotori Fondazione Compagnia di San Paolo, Fondazione Cariplo",
            "Contatto call@innovazionesviluppo.org",
        ],
    ),
    "bottega-digitale-per-la-pmi": (
        "closed",
        [
            "Quando giovedì 20 maggio 2021, 17:00 – 18:00",
            "Dove Webinar su Microsoft Teams",
            "Iscrizioni entro il 19 maggio 2021 · scaduto",
        ],
    ),
}


@pytest.mark.parametrize("slug", list(KEY_FACTS))
def test_key_facts_show_dates_amounts_places_and_whether_still_open(
    client: TestClient, slug: str
) -> None:
    state, lines = KEY_FACTS[slug]
    box = facts_of(get(client, f"/bollettino/{slug}").text)
    facts = text_of(box)
    assert [line for line in lines if line not in facts] == [], facts
    assert f'class="{state}"' in box


def test_the_contact_of_a_call_is_a_mail_link(client: TestClient) -> None:
    html = get(client, "/bollettino/call-tecnologie-sviluppo-sostenibile").text
    assert '<a href="mailto:call@innovazionesviluppo.org">call@innovazionesviluppo.org</a>' in html


def test_key_facts_name_the_deadline_once(client: TestClient) -> None:
    facts = text_of(facts_of(get(client, "/bollettino/top-of-the-pid").text))
    assert "Scadenza 3 settembre 2021 · scaduto" in facts
    assert facts.count("Scadenza") == 1


def test_key_facts_list_links(client: TestClient) -> None:
    html = get(client, "/bollettino/italian-sustainability-photo-award").text
    facts = facts_of(html)
    assert '<a href="https://www.ispaward.com/it" rel="noopener">' in facts
    assert "da 1.500 euro a 3.500 euro" in text_of(facts)


def test_an_item_without_facts_has_no_empty_box(client: TestClient) -> None:
    html = get(client, "/bollettino/horizon-europe").text
    assert 'class="facts"' not in html
    assert 'Etichette: <a href="/bollettino?tag=europa">europa</a>, ' in html


def test_an_item_shows_its_author(client: TestClient) -> None:
    html = get(client, "/bollettino/borsa-sociale-di-torino").text
    assert '<p class="meta">di Micol Burighel</p>' in html


def test_an_unknown_slug_is_404_in_italian(client: TestClient) -> None:
    response = get(client, "/bollettino/non-esiste", 404, "error.html")
    assert "Questa notizia del bollettino non esiste." in response.text


def test_titles_and_text_are_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "items"
    write_item(
        folder,
        "01.md",
        slug="insidioso",
        title='<img src=x onerror=alert(1)> & "co"',
        where="<b>ovunque</b>",
        organisers=["<i>Ente</i>"],
        tags=["città"],
        deadline=date(2021, 9, 10),
        body="Testo <script>alert(1)</script>",
    )
    settings = make_settings(tmp_path)
    import_seed(settings, folder)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        for path in ["/", "/bollettino", "/bollettino/insidioso", "/scadenze", "/cerca?q=testo"]:
            html = get(client, path).text
            assert "<img" not in html and "<script" not in html and "<b>" not in html, path
            assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;co&#34;" in html, path
        item = get(client, "/bollettino/insidioso").text
        assert "&lt;b&gt;ovunque&lt;/b&gt;" in item
        assert "&lt;i&gt;Ente&lt;/i&gt;" in item
        assert 'href="/bollettino?tag=citt%C3%A0"' in item


# --- deadlines and events ----------------------------------------------------------------------


def test_deadlines_lists_open_calls_soonest_first_then_closed_ones(client: TestClient) -> None:
    response = get(client, "/scadenze", 200, "bulletin/deadlines.html")
    assert slugs_of(response.context["open_calls"]) == [
        "italian-sustainability-photo-award",
        "call-tecnologie-sviluppo-sostenibile",
    ]
    assert slugs_of(response.context["closed_calls"]) == [
        "top-of-the-pid",
        "bottega-digitale-per-la-pmi",
        "digital-transformation-incentivi",
    ]
    html = response.text
    assert "Aggiornate a oggi, sabato 4 settembre 2021." in html
    aperte, scadute = main_of(html).split('<h2 id="h-scadute">')
    assert "mancano 2 giorni" in aperte and "scaduto" not in aperte
    assert "mancano" not in scadute and scadute.count("scaduto") == 3
    assert 'href="/calendario.ics"' in html


def test_a_deadline_today_is_still_open(client_on: Any) -> None:
    response = get(client_on(date(2021, 9, 6)), "/scadenze")
    assert slugs_of(response.context["open_calls"])[0] == "italian-sustainability-photo-award"
    assert "scade oggi" in response.text
    tomorrow = get(client_on(date(2021, 9, 5)), "/scadenze").text
    assert "scade domani" in tomorrow


def test_deadlines_read_well_with_none_open(client_today: TestClient) -> None:
    response = get(client_today, "/scadenze", 200, "bulletin/deadlines.html")
    assert response.context["open_calls"] == []
    assert len(response.context["closed_calls"]) == 5
    text = text_of(main_of(response.text))
    assert "Aperte Nessuna scadenza aperta in questo momento. Scadute" in text
    assert "mancano" not in text


def test_events_splits_upcoming_and_past(client: TestClient) -> None:
    response = get(client, "/eventi", 200, "bulletin/events.html")
    assert response.context["upcoming"] == []
    assert slugs_of(response.context["past"]) == [
        "bottega-digitale-per-la-pmi",
        "digital-transformation-incentivi",
    ]
    text = text_of(main_of(response.text))
    assert "Prossimi Nessun evento in programma. Passati" in text
    assert "giovedì 20 maggio 2021, 17:00 · Webinar su Microsoft Teams" in text
    assert "martedì 18 maggio 2021, 10:00 · Webinar" in text


def test_an_event_is_upcoming_until_its_day_is_over(client_on: Any) -> None:
    response = get(client_on(date(2021, 5, 20)), "/eventi")
    assert slugs_of(response.context["upcoming"]) == ["bottega-digitale-per-la-pmi"]
    assert slugs_of(response.context["past"]) == ["digital-transformation-incentivi"]
    before = get(client_on(date(2021, 5, 1)), "/eventi")
    assert slugs_of(before.context["upcoming"]) == [
        "digital-transformation-incentivi",
        "bottega-digitale-per-la-pmi",
    ]
    assert "Nessun evento passato." in before.text


# --- navigation and assets ----------------------------------------------------------------------


def test_navigation_marks_the_current_section(client: TestClient) -> None:
    assert '<a href="/scadenze" aria-current="page">Scadenze</a>' in get(client, "/scadenze").text
    item = get(client, "/bollettino/horizon-europe").text
    assert '<a href="/bollettino" aria-current="page">Bollettino</a>' in item.split("</nav>")[0]
    home = get(client, "/").text
    assert 'aria-current="page"' not in home.split("</nav>")[0]


def test_the_stylesheet_is_fingerprinted_and_cached_for_a_year(client: TestClient) -> None:
    html = get(client, "/").text
    href = re.search(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert href and re.fullmatch(r"/static/style\.[0-9a-f]{10}\.css", href.group(1))
    css = client.get(href.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.headers["cache-control"] == "max-age=31536000, immutable"
    assert "prefers-color-scheme:dark" in css.text and "@media print" in css.text
    again = client.get(href.group(1), headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/static/style.css").status_code == 404


def test_no_page_ever_answers_500(seeded_settings: Settings) -> None:
    hostile = [
        "/bollettino/%00",
        "/bollettino/%ff%fe",
        "/bollettino/" + "a" * 5000,
        "/bollettino?tag=%00",
        "/bollettino?tipo=%00",
        "/bollettino?tipo=bando&tipo=premio",
        "/bollettino?page=&tipo=",
        "/bollettino?page=1&page=abc",
        "/bollettino?tag=%27%20OR%201%3D1%20--",
        "/cerca?q=%00",
        "/cerca?q=%02%03",
        "/cerca?q=%27%22%3B--",
        "/cerca?q=bando&page=-5",
        "/cerca?q=" + "%F0%9F%8C%8D" * 60,
        "/scadenze?page=abc",
        "/eventi?x=%ff",
        "/static/%00",
        "/static/../../pyproject.toml",
        "/feed.xml?page=0",
        "/%2e%2e/%2e%2e/etc/passwd",
    ]
    app = create_app(seeded_settings, today=lambda: SEED_TODAY)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in hostile:
            response = client.get(path)
            assert response.status_code < 500, path


# --- before any import, and with dated items ------------------------------------------------


def test_a_fresh_database_serves_every_page(settings: Settings) -> None:
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        for path in ["/", "/bollettino", "/scadenze", "/eventi", "/cerca?q=bando"]:
            assert client.get(path).status_code == 200, path
        assert "Nessun elemento." in client.get("/bollettino").text
        assert "Nessuna scadenza aperta oggi, 4 settembre 2021." in client.get("/").text
        assert client.get("/bollettino?page=2").status_code == 404
        assert client.get("/healthz").json() | {"pid": 0} == {
            "status": "ok",
            "bulletin_items": 0,
            "pid": 0,
        }


def test_dated_items_come_first_newest_first_then_the_rest_by_position(tmp_path: Path) -> None:
    folder = tmp_path / "items"
    write_item(folder, "a.md", slug="senza-data-1", position=1)
    write_item(folder, "b.md", slug="vecchio", position=2, published=date(2021, 6, 1))
    write_item(folder, "c.md", slug="senza-data-3", position=3)
    write_item(folder, "d.md", slug="recente", position=4, published=date(2021, 9, 1))
    settings = make_settings(tmp_path)
    import_seed(settings, folder)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        response = get(client, "/bollettino")
        assert slugs_of(response.context["page"].items) == [
            "recente",
            "vecchio",
            "senza-data-1",
            "senza-data-3",
        ]
        item = get(client, "/bollettino/recente").text
        assert "Pubblicato 1 settembre 2021" in text_of(facts_of(item))


def test_an_unexpected_error_gives_the_italian_500_page(
    seeded_settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import greenweb.bulletin.queries

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(greenweb.bulletin.queries, "get_item", broken)
    app = create_app(seeded_settings, today=lambda: SEED_TODAY)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/bollettino/horizon-europe")
    assert response.status_code == 500
    assert "<h1>Errore del server</h1>" in response.text
    assert "Qualcosa è andato storto da parte nostra." in response.text
    assert "simulated failure" not in response.text  # no internals shown
    assert '<html lang="it">' in response.text
    assert "simulated failure" in caplog.text  # but logged for the operator
