"""Publishing a numero enqueues its e-mails in the same transaction: one per confirmed
subscriber of *ogni numero* who wants one of its kinds; the newsroom's publish does it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from greenweb.bulletin import numeri
from greenweb.bulletin.numeri import NumeroError
from greenweb.config import Settings
from greenweb.db import Database, fetch_value, with_database
from greenweb.newsletter import announce, subscribers
from greenweb.newsletter.delivery import Sender
from greenweb.staff import REDATTORE
from support import import_seed, make_settings
from support.board import token_for
from support.mail import mail_settings, text_and_html
from support.moderation import staff_desk
from support.newsletter import add_subscribers, outbox_rows
from support.smtp import MailServer

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, smtp_server: MailServer) -> Settings:
    made = mail_settings(tmp_path, smtp_port=smtp_server.port, mail_rate_per_minute=6000)
    import_seed(made)
    add_subscribers(made, ["anna@example.org"])  # every kind
    add_subscribers(made, ["bruno@example.org"], kinds=["bando"])
    add_subscribers(made, ["carla@example.org"], kinds=["notizia", "evento"])
    add_subscribers(made, ["dario@example.org"], choice="settimanale")
    return made


def pending(settings: Settings, address: str) -> None:
    async def work(db: Database) -> None:
        async with db.transaction() as conn:
            await subscribers.subscribe(conn, address, "numero", [], NOW)

    with_database(settings.db_path, work)


def draft_of_notizie(settings: Settings) -> int:
    """A draft numero 2 of the seed's first two notizie."""

    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            ids = await fetch_value(
                conn,
                "SELECT group_concat(id) FROM (SELECT id FROM bulletin_item "
                "WHERE kind = 'notizia' ORDER BY id LIMIT 2)",
            )
            return await numeri.save_draft(
                conn,
                number=None,
                title="Numero 2",
                intro_markdown="Due notizie.",
                item_ids=[int(i) for i in str(ids).split(",")],
                now=NOW,
            )

    return with_database(settings.db_path, work)


def publish(settings: Settings, number: int) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            return await announce.publish_numero(
                conn, number, NOW, announce.letterhead_for(settings)
            )

    return with_database(settings.db_path, work)


def test_publishing_enqueues_one_message_per_subscriber_who_wants_its_kinds(
    settings: Settings,
) -> None:
    pending(settings, "erika@example.org")
    number = draft_of_notizie(settings)
    assert publish(settings, number) == 2
    rows = outbox_rows(settings)
    assert sorted(str(r["address"]) for r in rows) == ["anna@example.org", "carla@example.org"]
    assert {(r["kind"], r["ref"], r["state"]) for r in rows} == {("numero", str(number), "queued")}


def test_a_refused_publication_enqueues_nothing(settings: Settings) -> None:
    number = draft_of_notizie(settings)
    publish(settings, number)
    before = outbox_rows(settings)
    with pytest.raises(NumeroError):
        publish(settings, number)  # already published
    assert outbox_rows(settings) == before


def test_a_numero_is_enqueued_once_per_address(settings: Settings) -> None:
    number = draft_of_notizie(settings)
    publish(settings, number)

    async def again(db: Database) -> int:
        letterhead = announce.letterhead_for(settings)
        assert letterhead is not None
        async with db.transaction() as conn:
            return await announce.enqueue_numero(conn, letterhead, number, NOW)

    assert with_database(settings.db_path, again) == 0
    assert len(outbox_rows(settings)) == 2


def test_without_e_mail_publishing_enqueues_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    import_seed(settings)
    add_subscribers(settings, ["anna@example.org"])
    assert publish(settings, draft_of_notizie(settings)) == 0
    assert outbox_rows(settings) == []


def test_the_newsrooms_publish_enqueues_and_the_sender_delivers(
    tmp_path: Path, smtp_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The desk's client speaks http: its session cookie is not Secure with an http base URL.
    settings = mail_settings(
        tmp_path,
        smtp_port=smtp_server.port,
        base_url="http://testserver",
        mail_rate_per_minute=6000,
    )
    import_seed(settings)
    add_subscribers(settings, ["anna@example.org", "bruno@example.org"])
    number = draft_of_notizie(settings)
    path = f"/redazione/numeri/{number}"
    with staff_desk(settings, monkeypatch, "bea", REDATTORE) as desk:
        page = desk.page(path)
        chosen = re.findall(r'name="voce" value="(\d+)" checked', page)
        fields = [("token", token_for(page, path)), ("azione", "pubblica")]
        fields += [("title", "Numero 2"), ("intro", "Due notizie.")]
        for place, item in enumerate(chosen, 1):
            fields += [("voce", item), (f"posto_{item}", str(place))]
        desk.clock.advance(1)
        response = desk.client.post(
            path,
            content=urlencode(fields),
            headers={"content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
    assert response.status_code == 303, response.text[-400:]
    assert sorted(str(r["address"]) for r in outbox_rows(settings)) == [
        "anna@example.org",
        "bruno@example.org",
    ]

    async def deliver(db: Database) -> int:
        return (await Sender(db, settings).deliver()).sent

    assert with_database(settings.db_path, deliver) == 2
    assert sorted(smtp_server.handler.delivered_to()) == ["anna@example.org", "bruno@example.org"]
    for received in smtp_server.handler.acknowledged:
        message = received.message
        assert message["Subject"] == "Numero 2"
        text, _ = text_and_html(message)
        assert "Due notizie." in text
        assert "http://testserver/bollettino/numeri/2" in text
