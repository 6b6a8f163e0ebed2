"""The board's GET pages: the caching contract, navigation, sitemap, budget, bad queries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb.config import SETTINGS, Settings
from greenweb.paths import static_dir
from support import make_settings
from support.board import (
    T0,
    Clock,
    board_client,
    brotli_size,
    dom_elements,
    publish_directly,
    query,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def site(settings: Settings) -> Iterator[tuple[TestClient, Settings, int, int]]:
    with board_client(settings, Clock()) as client:
        public = publish_directly(settings, topic="energia")[0]
        pending = publish_directly(settings, state="ricevuta", published_at=None)[0]
        yield client, settings, public, pending


SHARED_PAGES = [
    "/domande",
    "/domande?ordine=condivise",
    "/domande?ordine=con-risposta&tema=clima",
    "/risorse",
    "/risorse?tipo=guardare",
    "/pillole",
    "/moderazione/registro",
    "/domande/grazie",
    "/domande/segnalazione-ricevuta",
]


@pytest.mark.parametrize("path", SHARED_PAGES)
def test_pages_shared_by_everyone_carry_no_token_and_may_be_cached(
    site: tuple[TestClient, Settings, int, int], path: str
) -> None:
    client = site[0]
    response = client.get(path)
    assert response.status_code == 200
    cache_control = response.headers.get("cache-control", "")
    assert "no-store" not in cache_control and "private" not in cache_control
    assert "set-cookie" not in response.headers
    assert 'name="token"' not in response.text
    assert "<form" not in response.text.split("</header>", 1)[1]
    assert client.head(path).status_code == 200


def test_pages_with_a_form_token_are_never_stored(
    site: tuple[TestClient, Settings, int, int],
) -> None:
    client, _, public, _ = site
    for path in ("/domande/nuova", f"/domande/{public}", "/moderazione/accesso"):
        response = client.get(path)
        assert response.status_code == 200
        assert 'name="token"' in response.text
        assert response.headers["cache-control"] == "no-store", path
        assert "set-cookie" not in response.headers


def test_two_visitors_never_get_the_same_token(
    site: tuple[TestClient, Settings, int, int],
) -> None:
    client, _, public, _ = site
    pages = [client.get("/domande/nuova").text for _ in range(2)]
    pages += [client.get(f"/domande/{public}").text for _ in range(2)]
    tokens = [t for page in pages for t in re.findall(r'name="token" value="([^"]+)"', page)]
    assert len(tokens) == 6 and len(set(tokens)) == 6


def test_navigation_and_footer_lead_to_the_board(
    site: tuple[TestClient, Settings, int, int],
) -> None:
    client, _, public, _ = site
    home = client.get("/").text
    assert '<a href="/domande">Dubbi sul clima</a>' in home
    assert '<a href="/risorse">Risorse</a>' in home
    assert '<a href="/moderazione/registro">Registro della moderazione</a>' in home
    question = client.get(f"/domande/{public}").text
    assert '<a href="/domande" aria-current="page">Dubbi sul clima</a>' in question


def test_sitemap_lists_the_board_and_published_questions_only(
    site: tuple[TestClient, Settings, int, int],
) -> None:
    client, _, public, pending = site
    sitemap = client.get("/sitemap.xml").text
    for path in ("/domande", "/risorse", "/pillole", f"/domande/{public}"):
        assert f"<loc>http://testserver{path}</loc>" in sitemap
    assert f"/domande/{pending}<" not in sitemap


def test_pending_and_hidden_questions_are_not_found(
    site: tuple[TestClient, Settings, int, int],
) -> None:
    client, settings, _, pending = site
    hidden = publish_directly(settings, state="nascosta")[0]
    for question_id in (pending, hidden, 9999):
        response = client.get(f"/domande/{question_id}")
        assert response.status_code == 404
        assert "non è pubblicata" in response.text
    for path in ("/domande/abc", "/domande/0", f"/domande/00{pending}", "/domande/" + "9" * 30):
        assert client.get(path).status_code == 404, path
    assert client.post("/domande/" + "9" * 30 + "/anchio", data={"x": "1"}).status_code == 404
    assert client.get("/moderazione/domande/" + "9" * 30).status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"ordine": "casuale"}, {"tema": "astrologia"}, {"page": "abc"}, {"page": "0"}],
)
def test_unknown_list_parameters_get_a_clear_400(
    site: tuple[TestClient, Settings, int, int], params: dict[str, str]
) -> None:
    response = site[0].get("/domande", params=params)
    assert response.status_code == 400
    assert "<h1>Richiesta non valida</h1>" in response.text


def test_list_page_past_the_end_is_404(site: tuple[TestClient, Settings, int, int]) -> None:
    assert site[0].get("/domande", params={"page": "2"}).status_code == 404
    assert site[0].get("/pillole", params={"page": "2"}).status_code == 404


def test_lists_filter_by_topic_and_order(site: tuple[TestClient, Settings, int, int]) -> None:
    client, settings, public, _ = site
    shared = publish_directly(settings, text="La domanda più condivisa di tutte?", me_too=9)[0]
    energy = client.get("/domande", params={"tema": "energia"}).text
    assert f'/domande/{public}"' in energy and f'/domande/{shared}"' not in energy
    ordered = client.get("/domande", params={"ordine": "condivise"}).text
    assert ordered.index(f'/domande/{shared}"') < ordered.index(f'/domande/{public}"')
    assert "9 anch'io" in ordered
    answered = client.get("/domande", params={"ordine": "con-risposta"}).text
    assert "Nessuna domanda" in answered


def test_question_form_shows_the_limits_from_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, question_min_chars=20, question_max_chars=500, name_max_chars=30
    )
    with board_client(settings) as client:
        form = client.get("/domande/nuova").text
    assert 'minlength="20" maxlength="500"' in form
    assert 'maxlength="30"' in form
    assert "Da 20 a 500 caratteri." in form


def test_honeypot_is_hidden_from_people_screen_readers_and_the_tab_order(
    site: tuple[TestClient, Settings, int, int],
) -> None:
    form = site[0].get("/domande/nuova").text
    field = re.search(r'<input class="hp"[^>]*>', form)
    assert field is not None
    for attribute in (
        'name="sito_web"',
        'tabindex="-1"',
        'autocomplete="off"',
        'aria-hidden="true"',
    ):
        assert attribute in field.group(0)
    css = (static_dir() / "style.css").read_text()
    assert re.search(r"\.hp\{position:absolute;left:-\d+rem", css)


def test_full_question_page_stays_within_budget(
    site: tuple[TestClient, Settings, int, int],
) -> None:
    client, settings, _, _ = site
    paragraph = (
        "Le emissioni di gas serra dipendono soprattutto dall'energia: trasporti, case e "
        "industria. Ridurle vuol dire cambiare fonti e abitudini, un passo alla volta. "
    )
    answer_md = "\n\n".join(paragraph * 3 for _ in range(8))[:6000]
    answer_html = "".join(f"<p>{paragraph * 3}</p>" for _ in range(8))
    question_id = publish_directly(
        settings,
        text=("Perché " + "x" * 990)[:1000],
        display_name="n" * 40,
        answer_md=answer_md,
        answer_html=answer_html,
        answered_at=int(T0),
        piece_title="t" * 200,
        piece_url="https://example.org/" + "p" * 100,
        piece_text="Scena. " * 500,
        piece_at=int(T0),
    )[0]
    resource_ids = [row[0] for row in query(settings, "SELECT id FROM resources")]
    for position, resource_id in enumerate(resource_ids):
        query(
            settings,
            "INSERT INTO question_resources VALUES (?, ?, ?)",
            (question_id, resource_id, position),
        )
    page = client.get(f"/domande/{question_id}")
    assert page.status_code == 200
    assert page.text.count('rel="noopener" hreflang=') == 13
    assert brotli_size(page.content) <= 14_600
    assert dom_elements(page.text) <= 300


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"| `{setting.env}` |" in readme, setting.env
