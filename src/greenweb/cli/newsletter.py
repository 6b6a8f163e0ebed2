"""``greenweb newsletter send``: deliver the bulletin's outbox once (from cron), registered
in ``cli.COMMAND_GROUPS``."""

from __future__ import annotations

import argparse
import logging

from greenweb.cli.commands import Subcommands, add_command_group
from greenweb.cli.output import EXIT_FAILED, EXIT_USAGE, complain
from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.newsletter.delivery import Report, Sender


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


def newsletter_command(args: argparse.Namespace, settings: Settings) -> int:
    """Deliver the bulletin's e-mails.

    send: deliver every message due in the outbox through GREENWEB_SMTP_HOST, at most
    GREENWEB_MAIL_RATE_PER_MINUTE a minute, and exit; run it from cron (every minute is
    fine: only one sender runs at a time). Exits 1 when the server could not take every
    message: those stay in the outbox and are retried later."""
    # The sender's notes (an address unsubscribed after bounces) go to stderr.
    logging.basicConfig(level=logging.WARNING, format="greenweb %(message)s")
    if args.action == "send":
        return send(settings)
    return complain("newsletter", f"unknown action {args.action!r}", status=EXIT_USAGE)


def register(commands: Subcommands) -> None:
    actions = add_command_group(commands, "newsletter", newsletter_command)
    actions.add_parser("send", help="deliver the outbox's due e-mails once (for cron)")
