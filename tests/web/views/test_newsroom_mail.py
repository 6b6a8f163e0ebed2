"""/redazione/email: subscriber counts by choice, the outbox's states and each numero's
deliveries, for editors; never an address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from greenweb.config import Settings
from greenweb.staff import REDATTORE
from support.board import board_client, query
from support.mail import mail_settings
from support.moderation import Desk, staff_desk
from support.newsletter import add_subscribers, queue_messages

PAGE = "/redazione/email"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # http: the desk's test client does not send a Secure cookie.
    made = mail_settings(tmp_path, base_url="http://testserver")
    add_subscribers(made, ["anna@example.org", "bruno@example.org"])
    add_subscribers(made, ["carla@example.org"], choice="settimanale")
    queue_messages(made, ["anna@example.org", "bruno@example.org"], ref="1")
    query(
        made,
        "UPDATE newsletter_outbox SET kind = 'numero', state = 'sent' WHERE address LIKE 'anna@%'",
    )
    query(
        made,
        "UPDATE newsletter_outbox SET kind = 'numero', state = 'retrying' "
        "WHERE address LIKE 'bruno@%'",
    )
    return made


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with staff_desk(settings, monkeypatch, "bea", REDATTORE) as desk:
        yield desk


def test_the_figures_count_subscribers_messages_and_numeri(desk: Desk) -> None:
    page = desk.page(PAGE)
    assert '<th scope="row">Ogni numero</th><td>2</td><td>0</td>' in page
    assert '<th scope="row">Riepilogo settimanale</th><td>1</td><td>0</td>' in page
    assert "<td>0</td><td>0</td><td>1</td><td>1</td><td>0</td>" in page  # sent 1, retrying 1
    assert '<a href="/bollettino/numeri/1">1</a>' in page
    assert "example.org" not in page


def test_the_newsroom_links_the_figures(desk: Desk) -> None:
    assert f'href="{PAGE}"' in desk.page("/redazione")


def test_the_figures_are_for_staff_only(settings: Settings) -> None:
    with board_client(settings) as client:
        response = client.get(PAGE, follow_redirects=False)
    assert response.status_code in {303, 401, 403}
    assert "example.org" not in response.text
