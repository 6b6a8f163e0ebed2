"""The public subscription pages over HTTP: the form and its gate, bad addresses, the same
"controlla" page whatever the address, confirm and unsubscribe by signed link (GET
changes nothing, only POST acts), one-click unsubscribe (RFC 8058), the management link,
and a whole flow through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.newsletter.messages import Letterhead, Recipient, signed_url
from support import REPO, make_settings
from support.board import (
    Clock,
    as_client,
    board_client,
    brotli_size,
    dom_elements,
    query,
    token_for,
)
from support.mail import mail_settings, text_and_html
from support.newsletter import deliver_outbox, newsletter_counts
from support.smtp import MailServer

ADDRESS = "anna@example.org"
URLENCODED = {"content-type": "application/x-www-form-urlencoded"}
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass
class Site:
    client: TestClient
    clock: Clock
    settings: Settings

    def form_token(self, path: str = "/iscriviti") -> str:
        return token_for(self.client.get(path).text, path)

    def subscribe(self, wait: float = 10, headers: dict[str, str] | None = None, **fields: Any):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = {
            "token": self.form_token(),
            "indirizzo": ADDRESS,
            "scelta": "numero",
            "sito_web": "",
        }
        self.clock.advance(wait)
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        return self.client.post("/iscriviti", data=data, headers=headers, follow_redirects=False)

    def link(self, purpose: str, address: str = ADDRESS) -> str:
        """The path of a signed link for ``address``, as its e-mail would carry it."""
        (row,) = query(
            self.settings, "SELECT id FROM newsletter_subscriber WHERE address = ?", (address,)
        )
        letterhead = Letterhead.from_settings(self.settings)
        url = signed_url(letterhead, Recipient(row[0], address), purpose, int(self.clock()))  # type: ignore[arg-type]
        return urlsplit(url).path

    def state(self, address: str = ADDRESS) -> str | None:
        rows = query(
            self.settings, "SELECT state FROM newsletter_subscriber WHERE address = ?", (address,)
        )
        return rows[0][0] if rows else None


@pytest.fixture
def site(tmp_path: Path, smtp_server: MailServer) -> Iterator[Site]:
    settings = mail_settings(tmp_path, smtp_port=smtp_server.port, mail_rate_per_minute=6000)
    clock = Clock()
    with board_client(settings, clock) as client:
        yield Site(client, clock, settings)


def assert_private(response: Any) -> None:
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"


def assert_token_page(response: Any) -> None:
    assert_private(response)
    assert '<meta name="robots" content="noindex">' in response.text


# --- the form --------------------------------------------------------------------------------


def test_the_form_asks_for_an_address_a_choice_and_optional_kinds(site: Site) -> None:
    page = site.client.get("/iscriviti")
    assert page.status_code == 200
    assert_private(page)
    assert 'name="indirizzo"' in page.text
    assert 'value="numero"' in page.text and 'value="settimanale"' in page.text
    for kind in ("bando", "premio", "evento", "notizia"):
        assert f'type="checkbox" name="tipi" value="{kind}"' in page.text
    assert 'name="sito_web"' in page.text


def test_a_valid_post_stores_a_pending_address_queues_one_email_and_redirects(
    site: Site,
) -> None:
    answer = site.subscribe(tipi=["bando", "evento"])
    assert answer.status_code == 303
    assert answer.headers["location"] == "/iscriviti/controlla"
    assert site.state() == "pending"
    assert newsletter_counts(site.settings) == {
        "newsletter_subscriber": 1,
        "newsletter_outbox": 1,
    }
    (kinds,) = query(site.settings, "SELECT kinds FROM newsletter_subscriber")
    assert kinds[0] == '["bando", "evento"]'


def test_the_check_page_is_the_same_bytes_for_a_new_a_pending_and_a_subscribed_address(
    site: Site,
) -> None:
    pages = []
    for _ in range(2):  # new, then pending
        answer = site.subscribe()
        assert answer.status_code == 303
        pages.append(site.client.get(answer.headers["location"]))
    site.client.post(site.link("conferma"))
    assert site.state() == "confirmed"
    answer = site.subscribe()
    assert answer.status_code == 303
    pages.append(site.client.get(answer.headers["location"]))
    assert "Controlla la tua casella" in pages[0].text
    assert all(page.status_code == 200 for page in pages)
    assert pages[0].content == pages[1].content == pages[2].content
    assert all("set-cookie" not in page.headers for page in pages)


@pytest.mark.parametrize(
    "address",
    [
        "anna.example.org",
        "anna@",
        "a" * 250 + "@example.org",
        "anna@example.org\r\nBcc: x@example.org",
        "anna@example.org\nbruno@example.org",
        "Anna <anna@example.org>",
        "anna@example.org, bruno@example.org",
        "anna@example.org bruno@example.org",
        "",
    ],
)
def test_a_bad_address_gets_422_with_the_message_beside_the_field_and_stores_nothing(
    site: Site, address: str
) -> None:
    before = newsletter_counts(site.settings)
    answer = site.subscribe(indirizzo=address)
    assert answer.status_code == 422
    assert 'id="indirizzo-errore" class="error"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert newsletter_counts(site.settings) == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"scelta": "ogni tanto"}, "scelta"), ({"scelta": None}, "scelta"), ({"tipi": ["x"]}, "tipi")],
)
def test_a_bad_choice_or_kind_gets_422_and_stores_nothing(
    site: Site, fields: dict[str, Any], field: str
) -> None:
    answer = site.subscribe(**fields)
    assert answer.status_code == 422
    assert f'id="{field}-errore"' in answer.text
    assert newsletter_counts(site.settings) == {"newsletter_subscriber": 0, "newsletter_outbox": 0}


def test_the_form_gate_refuses_bots_and_other_sites_storing_nothing(site: Site) -> None:
    refusals = [
        site.subscribe(wait=0).status_code,  # too young: the form comes back
        site.subscribe(sito_web="https://spam.example").status_code,
        site.subscribe(token="forged").status_code,
        site.subscribe(headers={"sec-fetch-site": "cross-site"}).status_code,
        site.subscribe(headers={"origin": "https://elsewhere.example"}).status_code,
    ]
    assert refusals == [403, 400, 403, 403, 403]
    assert newsletter_counts(site.settings) == {"newsletter_subscriber": 0, "newsletter_outbox": 0}


def test_a_form_sent_twice_is_refused_the_second_time(site: Site) -> None:
    token = site.form_token()
    site.clock.advance(10)
    data = {"token": token, "indirizzo": ADDRESS, "scelta": "numero", "sito_web": ""}
    assert site.client.post("/iscriviti", data=data, follow_redirects=False).status_code == 303
    assert site.client.post("/iscriviti", data=data, follow_redirects=False).status_code == 409
    assert newsletter_counts(site.settings)["newsletter_outbox"] == 1


def test_too_many_requests_from_one_client_get_429_with_retry_after(tmp_path: Path) -> None:
    settings = mail_settings(tmp_path, smtp_port=2525, rate_subscriptions_per_hour=2)
    clock = Clock()
    with board_client(settings, clock) as client:
        site = Site(client, clock, settings)
        for number in range(2):
            answer = site.subscribe(indirizzo=f"n{number}@example.org")
            assert answer.status_code == 303
        refused = site.subscribe(indirizzo="n3@example.org")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "Riprova tra" in refused.text
        assert newsletter_counts(settings)["newsletter_subscriber"] == 2
        # Another client is not held back.
        other = site.subscribe(indirizzo="n4@example.org", headers=as_client("192.0.2.9"))
        assert other.status_code == 303


def test_without_an_smtp_host_the_form_says_email_is_unavailable_and_stores_nothing(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    assert not settings.mail_enabled
    clock = Clock()
    with board_client(settings, clock) as client:
        page = client.get("/iscriviti")
        assert page.status_code == 200
        assert "non è disponibile" in page.text
        assert '<form method="post"' not in page.text
        answer = client.post(
            "/iscriviti",
            data={"indirizzo": ADDRESS, "scelta": "numero", "token": "x", "sito_web": ""},
            follow_redirects=False,
        )
        assert answer.status_code == 503
        assert "non è disponibile" in answer.text
        manage = client.post("/iscriviti/gestisci", data={"indirizzo": ADDRESS})
        assert manage.status_code == 503
        assert newsletter_counts(settings) == {"newsletter_subscriber": 0, "newsletter_outbox": 0}


# --- confirming ------------------------------------------------------------------------------


def test_get_on_the_confirmation_link_shows_a_button_and_confirms_nothing(site: Site) -> None:
    site.subscribe()
    link = site.link("conferma")
    for _ in range(3):  # a mail scanner fetching every link, more than once
        page = site.client.get(link)
        assert page.status_code == 200
        assert_token_page(page)
        assert f'<form method="post" action="{link}">' in page.text
        assert "<button>Conferma</button>" in page.text
    assert site.state() == "pending"


def test_the_post_of_the_button_confirms(site: Site) -> None:
    site.subscribe()
    link = site.link("conferma")
    done = site.client.post(link)
    assert done.status_code == 200
    assert_token_page(done)
    assert "Iscrizione confermata" in done.text
    assert site.state() == "confirmed"
    again = site.client.post(link)
    assert again.status_code == 410
    assert "già stato usato" in again.text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_confirmation_link_gets_a_clear_4xx_page(site: Site, method: str) -> None:
    site.subscribe()
    link = site.link("conferma")
    cancel = site.link("annulla").replace("/annulla/", "/conferma/")  # another purpose's
    for forged, status in [
        (link[:-3] + "AAA", 400),
        ("/iscriviti/conferma/nonsense", 400),
        (cancel, 400),
        ("/iscriviti/conferma/999.1." + "A" * 43, 410),  # nobody: gone, or never was
    ]:
        answer = site.client.request(method, forged)
        assert answer.status_code == status, forged
        assert_token_page(answer)
        assert "Collegamento non valido" in answer.text
    assert site.state() == "pending"


def test_an_expired_confirmation_link_gets_410(site: Site) -> None:
    site.subscribe()
    link = site.link("conferma")
    site.clock.advance(48 * 3600 + 1)
    for method in ("GET", "POST"):
        answer = site.client.request(method, link)
        assert answer.status_code == 410
        assert "scaduto" in answer.text
    assert site.state() == "pending"


# --- unsubscribing ---------------------------------------------------------------------------


def confirmed(site: Site) -> None:
    site.subscribe()
    site.client.post(site.link("conferma"))
    assert site.state() == "confirmed"


def test_the_one_click_post_unsubscribes_without_session_origin_or_form_token(
    site: Site,
) -> None:
    confirmed(site)
    link = site.link("annulla")
    # A mail client's POST: from no page of this site.
    headers = {**URLENCODED, "sec-fetch-site": "cross-site", "origin": "null"}
    done = site.client.post(link, content=ONE_CLICK, headers=headers)
    assert done.status_code == 200
    assert_token_page(done)
    assert "Iscrizione annullata" in done.text
    assert site.state() is None
    assert newsletter_counts(site.settings)["newsletter_subscriber"] == 0


def test_get_on_the_unsubscribe_link_shows_a_button_and_changes_nothing(site: Site) -> None:
    confirmed(site)
    link = site.link("annulla")
    page = site.client.get(link)
    assert page.status_code == 200
    assert_token_page(page)
    assert f'<form method="post" action="{link}">' in page.text
    assert site.state() == "confirmed"
    pressed = site.client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert pressed.status_code == 200
    assert site.state() is None
    assert site.client.get(link).status_code == 410


# --- managing --------------------------------------------------------------------------------


def request_management(site: Site, address: str) -> Any:
    token = site.form_token("/iscriviti/gestisci")
    site.clock.advance(10)
    data = {"token": token, "indirizzo": address, "sito_web": ""}
    return site.client.post("/iscriviti/gestisci", data=data, follow_redirects=False)


def test_asking_for_the_management_link_answers_the_same_either_way(site: Site) -> None:
    confirmed(site)
    queued = newsletter_counts(site.settings)["newsletter_outbox"]
    known = request_management(site, ADDRESS)
    unknown = request_management(site, "bruno@example.org")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/iscriviti/controlla"
    assert newsletter_counts(site.settings)["newsletter_outbox"] == queued + 1
    bad = request_management(site, "Anna <anna@example.org>")
    assert bad.status_code == 422
    assert 'id="indirizzo-errore"' in bad.text


def test_the_management_link_shows_the_choices_and_a_button_that_unsubscribes(
    site: Site,
) -> None:
    site.subscribe(scelta="settimanale", tipi=["premio"])
    site.client.post(site.link("conferma"))
    page = site.client.get(site.link("gestisci"))
    assert page.status_code == 200
    assert_token_page(page)
    assert "riepilogo settimanale" in page.text and "premi" in page.text
    action = re.search(r'<form method="post" action="(/iscriviti/annulla/[^"]+)">', page.text)
    assert action
    assert (
        site.client.post(action.group(1), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    )
    assert site.state() is None


def test_every_page_is_within_the_page_budget(site: Site) -> None:
    """Only the form is among the footprint's targets (/impronta lists them all): the
    others are held to the same limits here."""
    limits = tomllib.loads((REPO / "footprint-budget.toml").read_text(encoding="utf-8"))["page"]
    confirmed(site)
    paths = [
        "/iscriviti",
        "/iscriviti/controlla",
        "/iscriviti/gestisci",
        site.link("conferma"),
        site.link("annulla"),
        site.link("gestisci"),
        "/iscriviti/conferma/forged",
    ]
    for path in paths:
        page = site.client.get(path, headers={"accept-encoding": "identity"})
        assert brotli_size(page.content) <= limits["document_br_bytes"], path
        assert dom_elements(page.text) <= limits["dom_elements"], path
        assert "<script" not in page.text and "set-cookie" not in page.headers


def test_the_bulletin_list_links_to_the_form(site: Site) -> None:
    page = site.client.get("/bollettino")
    assert '<a href="/iscriviti">Ricevi il bollettino per e-mail</a>' in page.text


# --- the whole flow through a real SMTP server ------------------------------------------------


def test_subscribe_confirm_and_one_click_unsubscribe_through_a_real_smtp_server(
    site: Site, smtp_server: MailServer
) -> None:
    assert site.subscribe().status_code == 303
    deliver_outbox(site.settings, site.clock() + 1)
    (received,) = smtp_server.handler.acknowledged
    assert received.address == ADDRESS
    message = received.message
    text, _ = text_and_html(message)
    found = re.search(r"https://\S+/iscriviti/conferma/\S+", text)
    assert found
    link = urlsplit(found.group(0)).path
    page = site.client.get(link)
    assert "<button>Conferma</button>" in page.text
    assert site.state() == "pending"
    assert site.client.post(link).status_code == 200
    assert site.state() == "confirmed"
    unsubscribe = str(message["List-Unsubscribe"]).strip("<>")
    assert message["List-Unsubscribe-Post"] == ONE_CLICK
    done = site.client.post(urlsplit(unsubscribe).path, content=ONE_CLICK, headers=URLENCODED)
    assert done.status_code == 200
    assert site.state() is None
    assert newsletter_counts(site.settings)["newsletter_subscriber"] == 0
    # The sent confirmation stays only as a count for the figures, without the address.
    assert query(site.settings, "SELECT address, subscriber_id FROM newsletter_outbox") == [
        (None, None)
    ]
