"""Subscribing by e-mail, without HTTP: the confirmation link confirms (once, within 48
hours), the unsubscribe link deletes at once, the management link goes only to a confirmed
address, and a forged, expired or used link is a LinkError, never a crash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import aiosqlite
import pytest

from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.newsletter import links
from greenweb.newsletter.links import LinkError, LinkProblem
from greenweb.newsletter.messages import Letterhead
from support.board import query
from support.mail import mail_settings, parse_message, text_and_html
from support.newsletter import START, add_subscribers, outbox_rows

T = TypeVar("T")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return mail_settings(tmp_path)


def run(settings: Settings, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    async def wrapped(db: Database) -> T:
        async with db.transaction() as conn:
            return await work(conn)

    return with_database(settings.db_path, wrapped)


def ask(settings: Settings, address: str, when: timedelta = timedelta()) -> None:
    letterhead = Letterhead.from_settings(settings)
    run(
        settings,
        lambda conn: links.request_subscription(
            conn, letterhead, address, "numero", [], START + when
        ),
    )


def link_in_last_message(settings: Settings, purpose: str) -> str:
    raw = query(settings, "SELECT message FROM newsletter_outbox ORDER BY id DESC LIMIT 1")[0][0]
    text, _ = text_and_html(parse_message(bytes(raw)))
    url = next(word for word in text.split() if f"/iscriviti/{purpose}/" in word)
    return url.rsplit("/", 1)[1]


def test_asking_sends_a_confirmation_that_confirms_once(settings: Settings) -> None:
    ask(settings, "anna@example.org")
    assert [(r["kind"], r["state"]) for r in outbox_rows(settings)] == [("conferma", "queued")]
    token = link_in_last_message(settings, "conferma")
    secret = settings.secret_bytes
    later = START + timedelta(hours=47)
    confirmed = run(settings, lambda conn: links.confirm(conn, secret, token, later))
    assert confirmed.address == "anna@example.org"
    assert query(settings, "SELECT state FROM newsletter_subscriber") == [("confirmed",)]
    with pytest.raises(LinkError) as caught:
        run(settings, lambda conn: links.confirm(conn, secret, token, later))
    assert caught.value.problem is LinkProblem.DONE


def test_a_confirmation_link_expires_after_48_hours(settings: Settings) -> None:
    ask(settings, "anna@example.org")
    token = link_in_last_message(settings, "conferma")
    late = START + timedelta(hours=48, seconds=1)
    with pytest.raises(LinkError) as caught:
        run(settings, lambda conn: links.confirm(conn, settings.secret_bytes, token, late))
    assert caught.value.problem is LinkProblem.EXPIRED
    assert query(settings, "SELECT state FROM newsletter_subscriber") == [("pending",)]


@pytest.mark.parametrize(
    "token",
    ["", "1", "1.2.3", "1.1796115600." + "A" * 43, "x" * 500, "1.1796115600.\r\n" + "A" * 41],
)
def test_a_forged_link_is_refused_and_changes_nothing(settings: Settings, token: str) -> None:
    ask(settings, "anna@example.org")
    with pytest.raises(LinkError) as caught:
        run(settings, lambda conn: links.confirm(conn, settings.secret_bytes, token, START))
    assert caught.value.problem is LinkProblem.FORGED
    assert "collegamento" in caught.value.message
    assert query(settings, "SELECT state FROM newsletter_subscriber") == [("pending",)]


def test_a_confirmation_link_cannot_unsubscribe(settings: Settings) -> None:
    ask(settings, "anna@example.org")
    token = link_in_last_message(settings, "conferma")
    with pytest.raises(LinkError):
        run(settings, lambda conn: links.unsubscribe(conn, settings.secret_bytes, token, START))


def test_asking_again_for_a_confirmed_address_sends_nothing(settings: Settings) -> None:
    add_subscribers(settings, ["anna@example.org"])
    ask(settings, "ANNA@example.org", timedelta(minutes=5))
    assert outbox_rows(settings) == []


def test_asking_again_while_pending_sends_a_new_confirmation(settings: Settings) -> None:
    ask(settings, "anna@example.org")
    ask(settings, "anna@example.org", timedelta(minutes=5))
    assert [r["kind"] for r in outbox_rows(settings)] == ["conferma", "conferma"]


def test_the_unsubscribe_link_deletes_the_subscriber_at_once(settings: Settings) -> None:
    add_subscribers(settings, ["anna@example.org"])
    letterhead = Letterhead.from_settings(settings)
    run(
        settings,
        lambda conn: links.request_management(conn, letterhead, "anna@example.org", START),
    )
    token = link_in_last_message(settings, "annulla")
    a_year_later = START + timedelta(days=365)
    secret = settings.secret_bytes
    run(settings, lambda conn: links.unsubscribe(conn, secret, token, a_year_later))
    assert query(settings, "SELECT count(*) FROM newsletter_subscriber") == [(0,)]
    assert [r["address"] for r in outbox_rows(settings)] == []  # the queued e-mail went too
    with pytest.raises(LinkError) as caught:
        run(settings, lambda conn: links.unsubscribe(conn, secret, token, a_year_later))
    assert caught.value.problem is LinkProblem.DONE


def test_the_management_link_goes_only_to_a_confirmed_address(settings: Settings) -> None:
    letterhead = Letterhead.from_settings(settings)
    ask(settings, "bruno@example.org")  # pending
    before = len(outbox_rows(settings))
    for address in ("bruno@example.org", "nessuno@example.org"):
        run(settings, lambda conn, a=address: links.request_management(conn, letterhead, a, START))
    assert len(outbox_rows(settings)) == before
    add_subscribers(settings, ["anna@example.org"])
    run(
        settings,
        lambda conn: links.request_management(conn, letterhead, "anna@example.org", START),
    )
    token = link_in_last_message(settings, "gestisci")
    holder = run(
        settings,
        lambda conn: links.holder_of(conn, settings.secret_bytes, "gestisci", token, START),
    )
    assert holder.address == "anna@example.org"
