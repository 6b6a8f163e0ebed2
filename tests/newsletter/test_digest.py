"""The weekly digest: enqueued once per ISO week, after it ends, with the items published
in it, for the subscribers of *riepilogo settimanale* who want their kinds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from greenweb.config import Settings
from greenweb.db import Database, fetch_all, with_database
from greenweb.newsletter import digest
from greenweb.newsletter.messages import Letterhead
from support import import_seed
from support.board import query
from support.mail import mail_settings, parse_message, text_and_html
from support.newsletter import add_subscribers, outbox_rows

# Tuesday 1 December 2026: the last complete week is 2026-W48, 23 to 29 November.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    made = mail_settings(tmp_path)
    import_seed(made)
    query(made, "UPDATE bulletin_item SET published = NULL")
    # Two items of W48 (a bando and a notizia), one of the week before, one of this week.
    for slug, day in [
        ("horizon-europe", "2026-11-23"),
        ("esiti-bando-wonder", "2026-11-29"),
        ("top-of-the-pid", "2026-11-22"),
        ("borsa-sociale-di-torino", "2026-11-30"),
    ]:
        query(made, "UPDATE bulletin_item SET published = ? WHERE slug = ?", (day, slug))
    add_subscribers(made, ["anna@example.org"], choice="settimanale")
    add_subscribers(made, ["bruno@example.org"], choice="settimanale", kinds=["bando"])
    add_subscribers(made, ["carla@example.org"], choice="settimanale", kinds=["premio"])
    add_subscribers(made, ["dario@example.org"], choice="numero")
    return made


def enqueue(settings: Settings, now: datetime = NOW) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            return await digest.enqueue_due(conn, Letterhead.from_settings(settings), now)

    return with_database(settings.db_path, work)


def test_the_last_complete_week_is_the_one_before_this(settings: Settings) -> None:
    week, monday, sunday = digest.last_complete_week(NOW)
    assert (week, monday.isoformat(), sunday.isoformat()) == (
        "2026-W48",
        "2026-11-23",
        "2026-11-29",
    )


def test_the_digest_goes_to_weekly_subscribers_with_the_weeks_items_of_their_kinds(
    settings: Settings,
) -> None:
    assert enqueue(settings) == 2  # carla wants premi: none this week
    rows = outbox_rows(settings)
    assert {(r["address"], r["kind"], r["ref"]) for r in rows} == {
        ("anna@example.org", "riepilogo", "2026-W48"),
        ("bruno@example.org", "riepilogo", "2026-W48"),
    }

    def message_to(address: str) -> str:
        raw = query(
            settings, "SELECT message FROM newsletter_outbox WHERE address = ?", (address,)
        )[0][0]
        return text_and_html(parse_message(bytes(raw)))[0]

    anna = message_to("anna@example.org")
    assert "Horizon Europe" in anna and "Esiti bando Wonder" in anna
    assert "Top of the PID" not in anna and "Borsa Sociale" not in anna
    bruno = message_to("bruno@example.org")
    assert "Horizon Europe" in bruno and "Esiti bando Wonder" not in bruno


def test_a_week_is_enqueued_once_and_recorded(settings: Settings) -> None:
    assert enqueue(settings) == 2
    assert enqueue(settings) == 0
    assert enqueue(settings, NOW.replace(day=6)) == 0  # still the same last week
    weeks = with_database(
        settings.db_path,
        lambda db: fetch_all(db.reader, "SELECT week, messages FROM newsletter_digest_week"),
    )
    assert [tuple(row) for row in weeks] == [("2026-W48", 2)]


def test_a_week_without_items_sends_nothing_and_is_recorded(settings: Settings) -> None:
    assert enqueue(settings, datetime(2026, 12, 22, 9, 0, tzinfo=UTC)) == 0
    assert outbox_rows(settings) == []
    assert query(settings, "SELECT week, messages FROM newsletter_digest_week") == [("2026-W51", 0)]


def test_a_send_pass_enqueues_the_due_digest_and_delivers_it(settings: Settings) -> None:
    from greenweb.newsletter.delivery import Sender
    from support.smtp import mail_server

    with mail_server() as server:
        sending = Settings(**{**settings.__dict__, "smtp_port": server.port})

        async def deliver(db: Database) -> int:
            sender = Sender(db, sending, clock=NOW.timestamp)
            return (await sender.deliver()).sent

        assert with_database(settings.db_path, deliver) == 2
        assert with_database(settings.db_path, deliver) == 0
        assert sorted(server.handler.delivered_to()) == ["anna@example.org", "bruno@example.org"]
        subjects = {r.message["Subject"] for r in server.handler.acknowledged}
        assert subjects == {"Riepilogo settimanale: settimana 48 del 2026"}
