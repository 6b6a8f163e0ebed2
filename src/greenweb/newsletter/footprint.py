"""The e-mail bulletin's footprint: the bytes and grams of the newest numero's e-mail, and
of sending it to every subscriber, for ``greenweb footprint`` and ``/impronta``.

The message is built exactly as the outbox would build it (headers included, a sample
address of the longest usual form standing for the reader's), so its size is what one
subscriber receives. Deterministic: the same numero and settings give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import aiosqlite

from greenweb.bulletin import numeri
from greenweb.config import Settings
from greenweb.db import fetch_value
from greenweb.newsletter.messages import Letterhead, Recipient, numero_message

# Stands for a reader's address in the measured message (example.org: RFC 2606).
SAMPLE_RECIPIENT: Final = Recipient(1, "lettrice.del.bollettino@example.org")
# The sender when the site has none configured: the size of a plausible one.
SAMPLE_SENDER: Final = "Bollettino greenweb <bollettino@example.org>"
# A fixed moment: the Date header and the signed links have the same length at any time.
MEASURED_AT: Final = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class EmailFootprint:
    """One numero's e-mail: bytes as sent, grams each, and for every subscriber of numeri."""

    number: int
    bytes_each: int
    grams_each: float
    subscribers: int

    @property
    def grams_all(self) -> float:
        return self.grams_each * self.subscribers


async def numero_subscribers(conn: aiosqlite.Connection) -> int:
    return int(
        await fetch_value(
            conn,
            "SELECT count(*) FROM newsletter_subscriber "
            "WHERE state = 'confirmed' AND choice = 'numero'",
        )
    )


async def newest_numero_email(
    conn: aiosqlite.Connection, settings: Settings
) -> EmailFootprint | None:
    """The newest published numero's e-mail, measured; None when no numero is published."""
    page = await numeri.list_numeri(conn, 1, 1)
    if not page.items:
        return None
    numero = page.items[0]
    letterhead = Letterhead.from_settings(settings)
    if not letterhead.sender:
        letterhead = Letterhead(
            letterhead.base_url, SAMPLE_SENDER, letterhead.secret, letterhead.model
        )
    built = numero_message(letterhead, SAMPLE_RECIPIENT, numero, MEASURED_AT)
    return EmailFootprint(
        number=numero.number,
        bytes_each=built.size,
        grams_each=settings.carbon_model.grams(built.size),
        subscribers=await numero_subscribers(conn),
    )
