"""Delivering the outbox over SMTP, one sender at a time, at the configured rate.

:meth:`Sender.deliver` is one pass: take the lease, send every due message, give the lease
back. ``greenweb newsletter send`` runs one pass (from cron); with
``GREENWEB_MAIL_DELIVERY=serve`` each ``greenweb serve`` worker runs :meth:`Sender.run`,
a pass a minute, and the lease lets one of them send.

What the server answers decides a message's fate (``outbox``): 250 marks it sent, and
only then; a 4xx answer, a refused, dropped or timed-out connection keeps it for a retry
after a backoff, and ends the pass when the connection is gone; a 5xx is a bounce. Each
row is marked ``sending`` in its own transaction before its SMTP transaction starts, and
marked again after, so a kill at any moment leaves every message either acknowledged and
recorded, or due again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from typing import Final

import aiosmtplib

from greenweb.config import Settings
from greenweb.db import Database
from greenweb.newsletter import digest, lease, outbox, subscribers
from greenweb.newsletter.messages import Letterhead
from greenweb.newsletter.outbox import Queued

BATCH: Final = 100  # messages read from the outbox at a time
SMTP_TIMEOUT: Final = 30.0  # seconds per SMTP command: less than the lease's life
RUN_INTERVAL: Final = 60.0  # seconds between passes of the background sender

log = logging.getLogger("greenweb.newsletter")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Report:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0
    bounced: int = 0
    unsubscribed: int = 0
    busy: bool = False  # another sender held the lease: nothing was done
    problem: str | None = None  # why the pass stopped early (the server), if it did

    def summary(self) -> str:
        if self.busy:
            return "another sender is delivering the outbox; nothing done"
        line = (
            f"sent {self.sent}, retrying {self.retrying}, bounced {self.bounced}, "
            f"unsubscribed {self.unsubscribed}"
        )
        return line if self.problem is None else f"{line}; stopped: {self.problem}"


def envelope_sender(mail_from: str) -> str:
    """The bare address of GREENWEB_MAIL_FROM (the config checked it holds exactly one)."""
    header = HeaderRegistry()("from", mail_from)
    assert isinstance(header, AddressHeader)
    found: Address = header.addresses[0]
    return found.addr_spec


def _problem(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"


class _Stop(Exception):
    """The connection is gone or unusable: end the pass, keep what is left for later."""


class Sender:
    """Delivers the outbox of ``db`` through the SMTP server of ``settings``."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        holder: str | None = None,
        timeout: float = SMTP_TIMEOUT,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.holder = holder or lease.new_holder()
        self.timeout = timeout
        self.sender = envelope_sender(settings.mail_from)
        self.letterhead = Letterhead.from_settings(settings)
        self.interval = 60.0 / settings.mail_rate_per_minute
        self._last_start: float | None = None

    async def deliver(self) -> Report:
        """One pass over the outbox; see the module's docstring."""
        report = Report()
        now = self.clock()
        async with self.db.transaction() as conn:
            if not await lease.take(conn, self.holder, now):
                report.busy = True
                return report
            await subscribers.delete_expired_pending(conn, datetime.fromtimestamp(now, UTC))
        async with self.db.transaction() as conn:
            await digest.enqueue_due(conn, self.letterhead, datetime.fromtimestamp(now, UTC))
        try:
            await self._deliver_due(report)
        finally:
            async with self.db.transaction() as conn:
                await lease.release(conn, self.holder)
        return report

    async def run(self, interval: float = RUN_INTERVAL) -> None:
        """Pass after pass until cancelled: the background sender of ``greenweb serve``."""
        while True:
            try:
                report = await self.deliver()
                if report.sent or report.retrying or report.bounced or report.problem:
                    log.info("newsletter: %s", report.summary())
            except Exception:
                # A database or programming error: logged, and the next pass tries again.
                log.exception("newsletter: delivery pass failed")
            await self.sleep(interval)

    async def _deliver_due(self, report: Report) -> None:
        while batch := await outbox.due(self.db.reader, self.clock(), BATCH):
            try:
                await self._send_batch(batch, report)
            except _Stop as stop:
                report.problem = str(stop)
                return

    def _client(self) -> aiosmtplib.SMTP:
        settings = self.settings
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            timeout=self.timeout,
        )

    async def _send_batch(self, batch: list[Queued], report: Report) -> None:
        client = self._client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as error:
            # Nothing was sent: the first message carries the attempt and its backoff.
            if await self._claim(batch[0]):
                await self._retry(batch[0], error, report)
            raise _Stop(_problem(error)) from None
        try:
            for message in batch:
                await self._pace()
                if not await self._claim(message):
                    continue
                await self._send_one(client, message, report)
        finally:
            await self._close(client)

    async def _claim(self, message: Queued) -> bool:
        """Renew the lease and mark ``message`` sending; False when it was removed meanwhile.
        Losing the lease (it ran out while the server was slow) ends the pass."""
        async with self.db.transaction() as conn:
            if not await lease.take(conn, self.holder, self.clock()):
                raise _Stop("the sender's lease was taken by another sender")
            return await outbox.mark_sending(conn, message.id)

    async def _send_one(self, client: aiosmtplib.SMTP, message: Queued, report: Report) -> None:
        try:
            await client.sendmail(self.sender, [message.address], message.message)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            first = refused.recipients[0]
            await self._answer(message, first.code, _problem(first), report)
        except aiosmtplib.SMTPSenderRefused as error:
            # The server refuses our sender, not the reader: no bounce for them.
            await self._retry(message, error, report)
            raise _Stop(_problem(error)) from None
        except aiosmtplib.SMTPResponseException as error:
            await self._answer(message, error.code, _problem(error), report)
        except (aiosmtplib.SMTPException, OSError) as error:
            await self._retry(message, error, report)
            raise _Stop(_problem(error)) from None
        else:
            async with self.db.transaction() as conn:
                await outbox.mark_sent(conn, message, self.clock())
            report.sent += 1

    async def _answer(self, message: Queued, code: int, problem: str, report: Report) -> None:
        now = self.clock()
        if code >= 500:
            async with self.db.transaction() as conn:
                left = await outbox.mark_bounced(conn, message, now, problem)
            report.bounced += 1
            report.unsubscribed += int(left)
            return
        async with self.db.transaction() as conn:
            await outbox.mark_retry(conn, message, now, problem)
        report.retrying += 1
        if code == 421:  # the server is closing the connection
            raise _Stop(problem)

    async def _retry(self, message: Queued, error: BaseException, report: Report) -> None:
        async with self.db.transaction() as conn:
            await outbox.mark_retry(conn, message, self.clock(), _problem(error))
        report.retrying += 1

    async def _pace(self) -> None:
        """Wait so that message starts are 60 / GREENWEB_MAIL_RATE_PER_MINUTE seconds apart."""
        if self._last_start is not None:
            wait = self._last_start + self.interval - self.clock()
            if wait > 0:
                await self.sleep(wait)
        self._last_start = self.clock()

    @staticmethod
    async def _close(client: aiosmtplib.SMTP) -> None:
        if not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
