"""``greenweb newsletter send|subscribers export|forget``: deliver the bulletin's outbox once
(from cron); and, for the data controller, export the subscribers or erase one address.
Registered in ``cli.COMMAND_GROUPS``. The addresses leave greenweb only through here."""

from __future__ import annotations

import argparse
import csv
import logging
import sys

from greenweb.cli.commands import Subcommands, add_command_group
from greenweb.cli.output import EXIT_FAILED, EXIT_USAGE, complain
from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.newsletter import subscribers
from greenweb.newsletter.addresses import AddressError, clean_address
from greenweb.newsletter.delivery import Report, Sender

EXPORT_COLUMNS = ("address", "choice", "kinds", "state", "created_at", "confirmed_at", "bounces")


def send(settings: Settings) -> int:
    if not settings.mail_enabled:
        return complain(
            "newsletter send",
            "GREENWEB_SMTP_HOST is not set: e-mail is not available",
            status=EXIT_USAGE,
        )

    async def work(db: Database) -> Report:
        return await Sender(db, settings).deliver()

    report = with_database(settings.db_path, work)
    if report.problem is not None:
        # Nothing is lost: what was not acknowledged stays in the outbox for the next run.
        return complain("newsletter send", report.summary(), status=EXIT_FAILED)
    print(report.summary())
    return 0


def export_subscribers(settings: Settings) -> int:
    found = with_database(settings.db_path, lambda db: subscribers.all_subscribers(db.reader))
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for subscriber in found:
        confirmed = subscriber.confirmed_at
        writer.writerow(
            [
                subscriber.address,
                subscriber.choice,
                " ".join(subscriber.kinds),
                subscriber.state,
                subscriber.created_at.isoformat(),
                "" if confirmed is None else confirmed.isoformat(),
                subscriber.bounces,
            ]
        )
    return 0


def forget(settings: Settings, raw: str) -> int:
    try:
        address = clean_address(raw)
    except AddressError:
        return complain("newsletter forget", f"{raw!r}: not an e-mail address", status=EXIT_USAGE)

    async def work(db: Database) -> bool:
        async with db.transaction() as conn:
            return await subscribers.forget(conn, address)

    if with_database(settings.db_path, work):
        print(f"{address}: erased (subscription, queued e-mails and addresses of sent ones)")
    else:
        print(f"{address}: nothing stored")
    return 0


def newsletter_command(args: argparse.Namespace, settings: Settings) -> int:
    """Deliver the bulletin's e-mails.

    send: deliver every message due in the outbox through GREENWEB_SMTP_HOST, at most
    GREENWEB_MAIL_RATE_PER_MINUTE a minute, and exit; run it from cron (every minute is
    fine: only one sender runs at a time). Exits 1 when the server could not take every
    message: those stay in the outbox and are retried later.

    subscribers export: every subscriber as CSV on stdout (address, choice, kinds, state,
    created_at, confirmed_at, bounces), for the data controller.

    forget ADDRESS: erase ADDRESS for an erasure request: the subscription, the e-mails
    still queued for it, and the address and bytes of those already sent."""
    # The sender's notes (an address unsubscribed after bounces) go to stderr.
    logging.basicConfig(level=logging.WARNING, format="greenweb %(message)s")
    if args.action == "send":
        return send(settings)
    if args.action == "subscribers":
        return export_subscribers(settings)
    if args.action == "forget":
        return forget(settings, args.address)
    return complain("newsletter", f"unknown action {args.action!r}", status=EXIT_USAGE)


def register(commands: Subcommands) -> None:
    actions = add_command_group(commands, "newsletter", newsletter_command)
    actions.add_parser("send", help="deliver the outbox's due e-mails once (for cron)")
    listing = actions.add_parser("subscribers", help="the subscribers, for the data controller")
    listing.add_argument("what", choices=["export"], help="export: CSV on stdout")
    erase = actions.add_parser("forget", help="erase an address (an erasure request)")
    erase.add_argument("address", metavar="ADDRESS")
