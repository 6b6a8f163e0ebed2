"""Subscribers: pending until confirmed, deleted after 48 hours unconfirmed, and a person
who leaves or is forgotten leaves no address behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.newsletter import subscribers
from greenweb.newsletter.addresses import AddressError
from support.board import db_text, query
from support.mail import mail_settings
from support.newsletter import START, add_subscribers, outbox_rows, queue_messages


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return mail_settings(tmp_path)


def run(settings: Settings, work: object) -> object:
    async def wrapped(db: Database) -> object:
        async with db.transaction() as conn:
            return await work(conn)  # type: ignore[operator]

    return with_database(settings.db_path, wrapped)


def test_a_new_address_is_pending_until_confirmed(settings: Settings) -> None:
    made = run(
        settings,
        lambda conn: subscribers.subscribe(conn, "Anna@Example.org", "numero", ["bando"], START),
    )
    assert isinstance(made, subscribers.Subscriber)
    assert (made.state, made.kinds, made.confirmed_at) == ("pending", ("bando",), None)
    assert run(settings, lambda conn: subscribers.confirm(conn, made.id, START)) is True
    assert run(settings, lambda conn: subscribers.confirm(conn, made.id, START)) is False
    again = run(settings, lambda conn: subscribers.find(conn, "anna@example.org"))
    assert isinstance(again, subscribers.Subscriber) and again.state == "confirmed"


def test_subscribing_again_changes_nothing_of_a_confirmed_subscriber(settings: Settings) -> None:
    add_subscribers(settings, ["anna@example.org"], kinds=["bando"])
    run(
        settings,
        lambda conn: subscribers.subscribe(conn, "ANNA@example.org", "settimanale", [], START),
    )
    assert query(settings, "SELECT address, choice, kinds, state FROM newsletter_subscriber") == [
        ("anna@example.org", "numero", '["bando"]', "confirmed")
    ]


def test_every_kind_is_stored_as_all(settings: Settings) -> None:
    assert subscribers.clean_kinds(["notizia", "bando", "premio", "evento"]) == ()
    assert subscribers.clean_kinds(["notizia", "bando"]) == ("bando", "notizia")
    with pytest.raises(ValueError):
        subscribers.clean_kinds(["ricette"])


@pytest.mark.parametrize("address", ["anna", "Anna <anna@example.org>", "a@x.org\r\nBcc: b"])
def test_a_bad_address_stores_nothing(settings: Settings, address: str) -> None:
    with pytest.raises(AddressError):
        run(settings, lambda conn: subscribers.subscribe(conn, address, "numero", [], START))
    assert query(settings, "SELECT count(*) FROM newsletter_subscriber") == [(0,)]


def test_unconfirmed_addresses_are_deleted_after_48_hours(settings: Settings) -> None:
    run(settings, lambda conn: subscribers.subscribe(conn, "anna@example.org", "numero", [], START))
    add_subscribers(settings, ["bruno@example.org"])
    soon = START + timedelta(hours=47)
    assert run(settings, lambda conn: subscribers.delete_expired_pending(conn, soon)) == 0
    later = START + timedelta(hours=48, seconds=1)
    assert run(settings, lambda conn: subscribers.delete_expired_pending(conn, later)) == 1
    assert query(settings, "SELECT address FROM newsletter_subscriber") == [("bruno@example.org",)]


def test_forgetting_an_address_erases_it_everywhere(settings: Settings) -> None:
    add_subscribers(settings, ["anna@example.org", "bruno@example.org"])
    queue_messages(settings, ["anna@example.org", "bruno@example.org"])
    query(
        settings, "UPDATE newsletter_outbox SET state = 'sent' WHERE address = 'anna@example.org'"
    )
    queue_messages(settings, ["anna@example.org"], ref="2")
    assert run(settings, lambda conn: subscribers.forget(conn, "ANNA@example.org")) is True
    assert "anna@example.org" not in db_text(settings).lower()
    rows = outbox_rows(settings)
    # The sent message stays as a count, without its address or bytes; the queued one is gone.
    assert [(r["address"], r["state"]) for r in rows] == [
        (None, "sent"),
        ("bruno@example.org", "queued"),
    ]
    assert query(
        settings, "SELECT length(message) FROM newsletter_outbox WHERE address IS NULL"
    ) == [(0,)]
    assert run(settings, lambda conn: subscribers.forget(conn, "anna@example.org")) is False


def test_times_are_stored_in_utc(settings: Settings) -> None:
    when = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    add_subscribers(settings, ["anna@example.org"], now=when)
    assert query(settings, "SELECT created_at, confirmed_at FROM newsletter_subscriber") == [
        ("2026-12-01T10:00:00+00:00", "2026-12-01T10:00:00+00:00")
    ]


def test_confirming_and_leaving_record_a_change_of_the_subscribers_count(
    settings: Settings,
) -> None:
    """/impronta shows grams per numero sent to every subscriber: it must not be kept past
    a change of their number."""

    def changed() -> list[tuple[str, int]]:
        return [
            (name, version)
            for name, version in query(settings, "SELECT name, version FROM content_changes")
            if name == "subscribers"
        ]

    made = run(
        settings, lambda conn: subscribers.subscribe(conn, "anna@example.org", "numero", [], START)
    )
    assert isinstance(made, subscribers.Subscriber)
    assert changed() == []  # a pending address counts for nothing yet
    run(settings, lambda conn: subscribers.confirm(conn, made.id, START))
    [(_, confirmed)] = changed()
    run(settings, lambda conn: subscribers.remove(conn, made.id))
    [(_, removed)] = changed()
    assert removed > confirmed
