"""The e-mail bulletin as a reader meets it, in Chromium with JavaScript off: subscribe,
read the confirmation e-mail (delivered by ``greenweb newsletter send`` to a real SMTP
server on 127.0.0.1), confirm with the page's button, ask for the management link, and
unsubscribe; no cookie at any step."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from typing import Any
from urllib.parse import urlsplit

import pytest

from support.mail import text_and_html
from support.servers import server_env
from support.smtp import MailServer, mail_server

pytestmark = pytest.mark.browser

ADDRESS = "lettrice@example.org"
PUBLIC_URL = "https://greenweb.example"  # e-mails link the site's https address


def mail_env(mail: MailServer) -> dict[str, str]:
    return {
        "GREENWEB_SMTP_HOST": "127.0.0.1",
        "GREENWEB_SMTP_PORT": str(mail.port),
        "GREENWEB_SMTP_TLS": "none",
        "GREENWEB_MAIL_FROM": "Bollettino <bollettino@example.org>",
        "GREENWEB_BASE_URL": PUBLIC_URL,
        "GREENWEB_TOKEN_MIN_AGE": "0",
    }


def send_outbox(server: Any, mail: MailServer) -> None:
    """What cron does: ``greenweb newsletter send``."""
    done = subprocess.run(
        [sys.executable, "-m", "greenweb", "newsletter", "send"],
        env=server_env(server.db_path, **mail_env(mail)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def link_in(mail: MailServer, index: int, path: str) -> str:
    """The site path (with its token) of the link to ``path`` in the ``index``-th e-mail."""
    text, _ = text_and_html(mail.handler.acknowledged[index].message)
    found = re.search(re.escape(PUBLIC_URL + path) + r"[^\s<>\"]+", text)
    assert found is not None, text
    return urlsplit(found.group()).path


def subscriber_states(server: Any) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(server.db_path)) as conn:
        return conn.execute("SELECT address, state FROM newsletter_subscriber").fetchall()


def test_a_reader_subscribes_confirms_and_unsubscribes_without_javascript_or_cookies(
    new_context: Callable[..., Any], start_server: Callable[..., Any]
) -> None:
    with mail_server() as mail:
        server = start_server(**mail_env(mail))
        context = new_context(base_url=server.base_url)
        page = context.new_page()

        page.goto("/iscriviti")
        page.get_by_label("Il tuo indirizzo e-mail").fill(ADDRESS)
        page.get_by_role("button", name="Iscriviti").click()
        assert "controlla la tua casella" in page.locator("main").inner_text().lower()
        send_outbox(server, mail)
        assert mail.handler.delivered_to() == [ADDRESS]

        # A link scanner's GET confirms nothing: only the page's button does.
        page.goto(link_in(mail, 0, "/iscriviti/conferma/"))
        assert subscriber_states(server) == [(ADDRESS, "pending")]
        page.get_by_role("button", name="Conferma").click()
        assert subscriber_states(server) == [(ADDRESS, "confirmed")]

        page.goto("/iscriviti/gestisci")
        page.get_by_label("Il tuo indirizzo e-mail").fill(ADDRESS)
        page.get_by_role("button", name="Mandami il collegamento").click()
        send_outbox(server, mail)
        page.goto(link_in(mail, 1, "/iscriviti/gestisci/"))
        page.get_by_role("button", name="Annulla l'iscrizione").click()
        assert subscriber_states(server) == []
        assert context.cookies() == []
