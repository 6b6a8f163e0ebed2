"""The bulletin's e-mails as bytes: a numero, the weekly digest, the confirmation and the
management link.

Every message is a multipart/alternative of a plain-text part and a light HTML part: no
remote image, no tracking pixel, no rewritten link, no web font, no script. It carries
``Message-ID``, ``Date``, ``List-Id``, and RFC 8058's one-click ``List-Unsubscribe``. It is
built with :class:`email.message.EmailMessage` under ``policy.SMTP``, whose headers refuse
a line break: titles are folded to one line first, and an address with one never gets this
far (:func:`greenweb.newsletter.addresses.clean_address`, and ``Address`` below).

The bytes are deterministic for the same inputs (the MIME boundary is derived from them),
so a message's size can be budgeted and its footer can state it: the footer's figure is the
size of the whole message as sent, headers included, found by rebuilding until it holds.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final
from urllib.parse import urlsplit

from greenweb.bulletin.items import ItemFacts
from greenweb.bulletin.numeri import Numero
from greenweb.config import Settings
from greenweb.footprint.carbon import CarbonModel
from greenweb.italian import format_date, format_euro, format_grams, format_int, format_when
from greenweb.markup import plain_text
from greenweb.newsletter import tokens
from greenweb.newsletter.addresses import clean_address

LIST_NAME: Final = "Bollettino greenweb"
CONFIRM_MAX_AGE: Final = 48 * 3600  # an unconfirmed address is deleted after 48 hours
# Rebuilding until the stated size holds converges in two or three rounds (the digits of
# the size change rarely); the bound only guards against a loop.
_SIZE_ROUNDS: Final = 8
_SPACES: Final = re.compile(r"\s+")
_SITE_LINK: Final = re.compile(r'href="/')
# Headers are written whole up to RFC 5322's 998 characters: folding at 78 would turn the
# long List-Unsubscribe URL into encoded words that mail clients do not read as a URL. The
# parts were encoded (quoted-printable, 76-character lines) when they were set.
SENDING: Final = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Letterhead:
    """What every message of this site says the same: who sends it and where it links."""

    base_url: str  # https, no trailing slash
    sender: str  # GREENWEB_MAIL_FROM, as written
    secret: bytes
    model: CarbonModel

    @classmethod
    def from_settings(cls, settings: Settings) -> Letterhead:
        return cls(
            settings.base_url, settings.mail_from, settings.secret_bytes, settings.carbon_model
        )

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


@dataclass(frozen=True)
class Recipient:
    subscriber_id: int
    address: str


@dataclass(frozen=True)
class Built:
    """A message ready for the outbox: its bytes and the Message-ID inside them."""

    message: bytes
    message_id: str

    @property
    def size(self) -> int:
        return len(self.message)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (line breaks too) made one space."""
    return _SPACES.sub(" ", text).strip()


def signed_url(
    letterhead: Letterhead, recipient: Recipient, purpose: tokens.Purpose, issued: int
) -> str:
    """``/iscriviti/<purpose>/<token>`` on the site: the link that confirms (``conferma``),
    cancels (``annulla``) or manages (``gestisci``) this recipient's subscription."""
    token = tokens.sign(
        letterhead.secret, purpose, recipient.subscriber_id, recipient.address, issued
    )
    return letterhead.url(f"/iscriviti/{purpose}/{token}")


# --- the body: text and HTML side by side ----------------------------------------------


@dataclass
class Body:
    """A message's two parts, written together so they always say the same."""

    text: list[str]
    html: list[str]

    def heading(self, words: str) -> None:
        self.text += [words, "-" * min(len(words), 70), ""]
        self.html.append(f"<h1>{html.escape(words)}</h1>")

    def paragraph(self, words: str) -> None:
        self.text += [words, ""]
        self.html.append(f"<p>{html.escape(words)}</p>")

    def link(self, label: str, url: str) -> None:
        self.text += [f"{label}: {url}", ""]
        self.html.append(f'<p><a href="{html.escape(url)}">{html.escape(label)}</a></p>')


def _facts(facts: ItemFacts) -> list[tuple[str, str]]:
    """The key facts, as the key-facts box of the pages names them (templates/_macros.html)."""
    found: list[tuple[str, str]] = []
    if facts.deadline:
        label = "Iscrizioni entro il" if facts.kind == "evento" else "Scadenza"
        found.append((label, format_date(facts.deadline)))
    if facts.opens:
        found.append(("Apertura", format_date(facts.opens)))
    if facts.starts:
        when = format_when(facts.starts)
        if facts.ends:
            when += f" – {format_when(facts.ends)}"
        found.append(("Quando", when))
    if facts.place:
        found.append(("Dove", facts.place))
    if facts.organisers:
        found.append(("Promotori", ", ".join(facts.organisers)))
    if facts.amount_min is not None and facts.amount_max is not None:
        found.append(
            ("Importi", f"da {format_euro(facts.amount_min)} a {format_euro(facts.amount_max)}")
        )
    elif facts.amount_max is not None:
        found.append(("Importo massimo", format_euro(facts.amount_max)))
    elif facts.amount_min is not None:
        found.append(("Importo minimo", format_euro(facts.amount_min)))
    if facts.budget is not None:
        found.append(("Budget complessivo", format_euro(facts.budget)))
    if facts.contact_email:
        found.append(("Contatto", facts.contact_email))
    for link in facts.links:
        found.append(("Collegamento", link))
    return [(label, one_line(value)) for label, value in found]


def _entry(body: Body, letterhead: Letterhead, position: int, facts: ItemFacts) -> None:
    title = one_line(facts.title)
    url = letterhead.url(f"/bollettino/{facts.slug}")
    listed = _facts(facts)
    body.text.append(f"{position}. {title} ({facts.kind_label})")
    body.text += [f"   {label}: {value}" for label, value in listed]
    if facts.summary:
        body.text.append(f"   {one_line(facts.summary)}")
    body.text += [f"   {url}", ""]
    body.html.append(
        f'<h2>{position}. <a href="{html.escape(url)}">{html.escape(title)}</a> '
        f"<small>{html.escape(facts.kind_label)}</small></h2>"
    )
    if listed:
        rows = "".join(
            f"<li>{html.escape(label)}: {html.escape(value)}</li>" for label, value in listed
        )
        body.html.append(f"<ul>{rows}</ul>")
    if facts.summary:
        body.html.append(f"<p>{html.escape(one_line(facts.summary))}</p>")


def _footer(body: Body, letterhead: Letterhead, size: int, unsubscribe: str, why: str) -> None:
    grams = format_grams(letterhead.model.grams(size))
    weight = (
        f"Questa e-mail pesa {format_int(size)} byte: circa {grams} g di CO2e, con lo stesso "
        "modello delle pagine del sito."
    )
    body.text += ["-- ", weight, why, f"Per annullare l'iscrizione: {unsubscribe}"]
    body.html.append(
        f"<hr><p><small>{html.escape(weight)} {html.escape(why)} "
        f'<a href="{html.escape(unsubscribe)}">Annulla l\'iscrizione</a></small></p>'
    )


_HTML_HEAD: Final = (
    '<!doctype html><html lang="it"><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body style="font-family:sans-serif;line-height:1.5;max-width:40em">'
)


def _assemble(
    letterhead: Letterhead,
    recipient: Recipient,
    *,
    kind: str,
    ref: str,
    subject: str,
    now: datetime,
    write: Callable[[Body, int], None],
) -> Built:
    """The message whose ``write`` fills the body given the size to state; rebuilt until the
    size it states is its size."""
    address = clean_address(recipient.address)
    local, _, domain = address.rpartition("@")
    subject = one_line(subject)
    message_id = (
        f"<{kind}.{ref}.{tokens.address_tag(letterhead.secret, address)}@{letterhead.domain}>"
    )
    issued = int(now.timestamp())
    unsubscribe = signed_url(letterhead, recipient, "annulla", issued)
    stated = 0
    built = b""
    for _ in range(_SIZE_ROUNDS):
        body = Body([], [_HTML_HEAD.format(title=html.escape(subject))])
        write(body, stated)
        body.html.append("</body></html>")
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = letterhead.sender
        message["To"] = Address(addr_spec=f"{local}@{domain}")
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = message_id
        message["List-Id"] = f"{LIST_NAME} <bollettino.{letterhead.domain}>"
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content("\r\n".join(body.text) + "\r\n", cte="quoted-printable")
        message.add_alternative("".join(body.html) + "\r\n", subtype="html", cte="quoted-printable")
        # A boundary of the inputs, not a random one: the same message, the same bytes.
        seed = f"{message_id}|{stated}".encode()
        message.set_boundary("=_" + hashlib.sha256(seed).hexdigest()[:32])
        built = message.as_bytes(policy=SENDING)
        if len(built) == stated:
            break
        stated = len(built)
    return Built(built, message_id)


def _list_footer(
    letterhead: Letterhead, recipient: Recipient, now: datetime, why: str
) -> Callable[[Body, int], None]:
    unsubscribe = signed_url(letterhead, recipient, "annulla", int(now.timestamp()))

    def footer(body: Body, size: int) -> None:
        _footer(body, letterhead, size, unsubscribe, why)

    return footer


def numero_message(
    letterhead: Letterhead, recipient: Recipient, numero: Numero, now: datetime
) -> Built:
    """Numero ``numero`` (published) for ``recipient``: its introduction, each entry's title,
    key facts and summary, and a "leggi sul sito" link to its public page."""
    title = one_line(numero.title)
    subject = title if title == numero.label else f"{numero.label}: {title}"
    page = letterhead.url(f"/bollettino/numeri/{numero.number}")
    footer = _list_footer(
        letterhead, recipient, now, "La ricevi perché ti sei iscritto a ogni numero del bollettino."
    )

    def write(body: Body, size: int) -> None:
        body.heading(subject)
        if numero.issued:
            body.paragraph(format_date(numero.issued))
        if numero.intro_html:
            body.text += [plain_text(numero.intro_html), ""]
            body.html.append(_SITE_LINK.sub(f'href="{letterhead.base_url}/', numero.intro_html))
        for entry in numero.entries:
            _entry(body, letterhead, entry.position, entry.facts)
        body.link("Leggi sul sito", page)
        footer(body, size)

    return _assemble(
        letterhead,
        recipient,
        kind="numero",
        ref=str(numero.number),
        subject=subject,
        now=now,
        write=write,
    )


def iso_week(day: date) -> str:
    """``2026-W49``: the ISO week of ``day``, the digest's ref."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_message(
    letterhead: Letterhead,
    recipient: Recipient,
    week: str,
    items: Sequence[ItemFacts],
    now: datetime,
) -> Built:
    """The weekly digest ``week`` (``2026-W49``) of ``items`` for ``recipient``."""
    year, number = week.split("-W")
    subject = f"Riepilogo settimanale: settimana {int(number)} del {year}"
    footer = _list_footer(
        letterhead, recipient, now, "La ricevi perché ti sei iscritto al riepilogo settimanale."
    )

    def write(body: Body, size: int) -> None:
        body.heading(subject)
        count = len(items)
        body.paragraph(
            "Una novità del bollettino questa settimana."
            if count == 1
            else f"{count} novità del bollettino questa settimana."
        )
        for position, facts in enumerate(items, 1):
            _entry(body, letterhead, position, facts)
        body.link("Il bollettino sul sito", letterhead.url("/bollettino"))
        footer(body, size)

    return _assemble(
        letterhead, recipient, kind="riepilogo", ref=week, subject=subject, now=now, write=write
    )


def _request_message(
    letterhead: Letterhead,
    recipient: Recipient,
    *,
    kind: str,
    ref: str,
    subject: str,
    lines: Sequence[str],
    label: str,
    url: str,
    now: datetime,
) -> Built:
    unsubscribe = signed_url(letterhead, recipient, "annulla", int(now.timestamp()))
    why = "La ricevi perché questo indirizzo è stato scritto nel modulo del bollettino."

    def write(body: Body, size: int) -> None:
        body.heading(subject)
        for line in lines:
            body.paragraph(line)
        body.link(label, url)
        body.paragraph("Se non sei stato tu, ignora questa e-mail: non riceverai altro.")
        _footer(body, letterhead, size, unsubscribe, why)

    return _assemble(
        letterhead, recipient, kind=kind, ref=ref, subject=subject, now=now, write=write
    )


def confirmation_message(
    letterhead: Letterhead, recipient: Recipient, ref: str, now: datetime
) -> Built:
    """The double opt-in: the signed link whose page has the *Conferma* button."""
    return _request_message(
        letterhead,
        recipient,
        kind="conferma",
        ref=ref,
        subject="Conferma l'iscrizione al bollettino",
        lines=[
            "Hai chiesto di ricevere il bollettino per e-mail.",
            "Per confermare apri il collegamento qui sotto e premi «Conferma» (vale 48 ore).",
        ],
        label="Conferma l'iscrizione",
        url=signed_url(letterhead, recipient, "conferma", int(now.timestamp())),
        now=now,
    )


def management_message(
    letterhead: Letterhead, recipient: Recipient, ref: str, now: datetime
) -> Built:
    """The link to change or cancel a subscription, for a reader without an old e-mail."""
    return _request_message(
        letterhead,
        recipient,
        kind="gestione",
        ref=ref,
        subject="La tua iscrizione al bollettino",
        lines=["Hai chiesto il collegamento per gestire la tua iscrizione al bollettino."],
        label="Gestisci l'iscrizione",
        url=signed_url(letterhead, recipient, "gestisci", int(now.timestamp())),
        now=now,
    )
