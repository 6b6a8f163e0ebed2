"""The e-mails: parts, headers, the footer's figures, and no header injection."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from greenweb.bulletin.numeri import Numero, get_numero
from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.footprint.carbon import CarbonModel
from greenweb.italian import format_grams
from greenweb.newsletter import tokens
from greenweb.newsletter.addresses import AddressError
from greenweb.newsletter.messages import (
    Letterhead,
    Recipient,
    confirmation_message,
    digest_message,
    management_message,
    numero_message,
)
from support import import_seed
from support.mail import (
    BASE_URL,
    assert_light_html,
    mail_settings,
    parse_message,
    stated_size,
    text_and_html,
)

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ANNA = Recipient(7, "anna@example.org")
# The budget's limit for a numero e-mail of the seed's twelve items (issue 13).
NUMERO_BUDGET_BYTES = 20_000


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return mail_settings(tmp_path)


@pytest.fixture
def numero_one(settings: Settings) -> Numero:
    import_seed(settings)

    async def read(db: Database) -> Numero:
        numero = await get_numero(db.reader, 1)
        assert numero is not None
        return numero

    return with_database(settings.db_path, read)


@pytest.fixture
def letterhead(settings: Settings) -> Letterhead:
    return Letterhead.from_settings(settings)


def test_a_numero_of_the_seeds_twelve_items_is_within_the_budget(
    letterhead: Letterhead, numero_one: Numero
) -> None:
    assert len(numero_one.entries) == 12
    built = numero_message(letterhead, ANNA, numero_one, NOW)
    assert built.size == len(built.message) <= NUMERO_BUDGET_BYTES


def test_the_same_numero_makes_the_same_bytes(letterhead: Letterhead, numero_one: Numero) -> None:
    first = numero_message(letterhead, ANNA, numero_one, NOW)
    assert numero_message(letterhead, ANNA, numero_one, NOW) == first


def test_the_footer_states_the_whole_messages_size_and_grams(
    letterhead: Letterhead, numero_one: Numero
) -> None:
    built = numero_message(letterhead, ANNA, numero_one, NOW)
    text, markup = text_and_html(parse_message(built.message))
    size, grams = stated_size(text)
    assert size == len(built.message)
    assert grams == format_grams(CarbonModel().grams(size))
    assert stated_size(markup) == (size, grams)


def test_a_numero_message_has_both_parts_and_the_list_headers(
    letterhead: Letterhead, numero_one: Numero
) -> None:
    message = parse_message(numero_message(letterhead, ANNA, numero_one, NOW).message)
    assert message["From"] == "Bollettino <bollettino@example.org>"
    assert message["To"] == "anna@example.org"
    assert message["Subject"] == "Numero 1"
    assert message["Date"].datetime == NOW
    assert message["Message-ID"].startswith("<numero.1.")
    assert message["Message-ID"].endswith("@bollettino.example.org>")
    assert "anna" not in message["Message-ID"]
    assert message["List-Id"] == "Bollettino greenweb <bollettino.bollettino.example.org>"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{BASE_URL}/iscriviti/annulla/") and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, markup = text_and_html(message)
    assert_light_html(markup)
    assert '<html lang="it">' in markup
    for entry in numero_one.entries:
        assert entry.facts.title in text
        assert entry.facts.summary in text
    assert "Scadenza: 6 settembre 2021" in text  # a key fact of the photo award
    assert f"Leggi sul sito: {BASE_URL}/bollettino/numeri/1" in text
    assert f'<a href="{BASE_URL}/bollettino/numeri/1">Leggi sul sito</a>' in markup
    assert unsubscribe[1:-1] in text and unsubscribe[1:-1] in markup


def test_the_unsubscribe_link_is_signed_for_the_recipient(
    settings: Settings, letterhead: Letterhead, numero_one: Numero
) -> None:
    message = parse_message(numero_message(letterhead, ANNA, numero_one, NOW).message)
    token = message["List-Unsubscribe"].rsplit("/", 1)[1].rstrip(">")
    claim = tokens.read(token)
    assert claim is not None and claim.subscriber_id == ANNA.subscriber_id
    secret = settings.secret_bytes
    assert tokens.verify(secret, "annulla", claim, "ANNA@example.org", NOW.timestamp())
    assert not tokens.verify(secret, "annulla", claim, "bruno@example.org", NOW.timestamp())
    assert not tokens.verify(secret, "conferma", claim, ANNA.address, NOW.timestamp())
    assert not tokens.verify(b"another", "annulla", claim, ANNA.address, NOW.timestamp())


def test_a_title_with_line_breaks_never_makes_a_new_header(
    letterhead: Letterhead, numero_one: Numero
) -> None:
    hostile = replace(numero_one, title="Speciale\r\nBcc: tutti@example.org\r\n\r\n<b>corpo</b>")
    raw = numero_message(letterhead, ANNA, hostile, NOW).message
    message = parse_message(raw)
    assert message["Bcc"] is None
    assert message["Subject"] == "Numero 1: Speciale Bcc: tutti@example.org <b>corpo</b>"
    assert b"\r\nBcc:" not in raw.split(b"\r\n\r\n", 1)[0]
    _, markup = text_and_html(message)
    assert "<b>corpo</b>" not in markup


@pytest.mark.parametrize(
    "address",
    ["anna@example.org\r\nBcc: tutti@example.org", "Anna <anna@example.org>", "a@x.org, b@y.org"],
)
def test_an_address_that_is_not_one_bare_address_is_never_written_to(
    letterhead: Letterhead, numero_one: Numero, address: str
) -> None:
    with pytest.raises(AddressError):
        numero_message(letterhead, Recipient(1, address), numero_one, NOW)


def test_the_confirmation_carries_the_signed_confirm_link(
    settings: Settings, letterhead: Letterhead
) -> None:
    built = confirmation_message(letterhead, ANNA, "1", NOW)
    message = parse_message(built.message)
    assert message["Subject"] == "Conferma l'iscrizione al bollettino"
    text, markup = text_and_html(message)
    assert_light_html(markup)
    link = next(word for word in text.split() if "/iscriviti/conferma/" in word)
    assert link.startswith(f"{BASE_URL}/iscriviti/conferma/")
    claim = tokens.read(link.rsplit("/", 1)[1])
    assert claim is not None and claim.issued_at == int(NOW.timestamp())
    secret = settings.secret_bytes
    assert tokens.verify(secret, "conferma", claim, ANNA.address, NOW.timestamp(), 48 * 3600)
    later = NOW.timestamp() + 48 * 3600 + 1
    assert not tokens.verify(secret, "conferma", claim, ANNA.address, later, 48 * 3600)
    assert stated_size(text)[0] == built.size


def test_the_management_message_carries_the_signed_management_link(
    letterhead: Letterhead,
) -> None:
    text, markup = text_and_html(
        parse_message(management_message(letterhead, ANNA, "1", NOW).message)
    )
    assert_light_html(markup)
    assert f"{BASE_URL}/iscriviti/gestisci/7." in text


def test_a_digest_lists_the_weeks_items(letterhead: Letterhead, numero_one: Numero) -> None:
    facts = [entry.facts for entry in numero_one.entries[:3]]
    message = parse_message(digest_message(letterhead, ANNA, "2026-W49", facts, NOW).message)
    assert message["Subject"] == "Riepilogo settimanale: settimana 49 del 2026"
    assert message["Message-ID"].startswith("<riepilogo.2026-W49.")
    text, markup = text_and_html(message)
    assert_light_html(markup)
    assert "3 novità del bollettino questa settimana." in text
    assert all(f.title in text for f in facts)


def test_messages_are_built_without_an_event_loop(letterhead: Letterhead) -> None:
    # Plain functions: the outbox calls them inside a transaction, the CLI outside one.
    assert not asyncio.iscoroutinefunction(numero_message)
    assert confirmation_message(letterhead, ANNA, "1", NOW).size > 0
