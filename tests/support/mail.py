"""Reading the bulletin's e-mails back in tests, and the settings that send them."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

from greenweb.config import Settings
from greenweb.footprint.page import parse_html
from support import make_settings

BASE_URL = "https://bollettino.example.org"
MAIL_FROM = "Bollettino <bollettino@example.org>"
_STATED_SIZE = re.compile(r"Questa e-mail pesa ([0-9.]+) byte: circa ([0-9,]+) g di CO2e")


def mail_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings that send e-mail to a local server (``smtp_port`` to be given)."""
    values: dict[str, object] = {
        "base_url": BASE_URL,
        "mail_from": MAIL_FROM,
        "smtp_host": "127.0.0.1",
        "smtp_tls": "none",
    }
    values.update(overrides)
    return make_settings(tmp_path, **values)


def parse_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of a multipart/alternative, and nothing else in it."""
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    text, markup = (part.get_content() for part in parts)
    return text, markup


def stated_size(text: str) -> tuple[int, str]:
    """(bytes, grams as written) that a message's footer states."""
    match = _STATED_SIZE.search(text.replace("\r\n", " ").replace("\n", " "))
    assert match, "no size in the footer"
    return int(match.group(1).replace(".", "")), match.group(2)


def assert_light_html(markup: str) -> None:
    """Nothing a mail client would fetch or run: no image, stylesheet, font, frame or script,
    no contact with another host, no inline JavaScript."""
    page = parse_html(markup, BASE_URL)
    assert page.references == ()
    assert page.connections == ()
    assert page.inline_js_bytes == 0
    for forbidden in ("<img", "<script", "<link", "<iframe", "@font-face", "url(", "@import"):
        assert forbidden not in markup.lower(), forbidden
