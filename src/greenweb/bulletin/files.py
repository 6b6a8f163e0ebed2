"""One bulletin file: TOML front matter between ``+++`` lines, then the Markdown body.

``parse_item`` validates a file's text into an ItemSource, or raises BulletinFileError
naming the file, the first bad field and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from greenweb.bulletin.items import KINDS, ItemFacts, day_or_time
from greenweb.italian import ROME
from greenweb.markup import plain_text, render_markdown, summarise

# Addresses under /bollettino/ that are pages of their own (the numeri's archive).
RESERVED_SLUGS = frozenset({"numeri"})
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[a-z]{2,}$", re.IGNORECASE)
URL = re.compile(r"^https?://[^\s<>\"]+$")
TAG = re.compile(r"^[\w][\w '’-]{0,39}$")
# C0 controls other than tab and line ends: invalid in XML (the Atom feed) and in iCalendar
# text, and \x02/\x03 would pass for search-highlight markers.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The front matter's fields, in the order a file lists them and the newsroom's form shows
# them: what, when, where, who, how much, then links and tags.
FIELDS = (
    "title",
    "slug",
    "kind",
    "position",
    "published",
    "deadline",
    "opens",
    "starts",
    "ends",
    "where",
    "organisers",
    "amount_min",
    "amount_max",
    "budget",
    "contact_email",
    "links",
    "tags",
    "author",
)

# Far past any real value, and well inside SQLite's 64-bit integers (a larger TOML integer
# would fail at INSERT time instead of with a message naming the file and field).
MAX_POSITION = 1_000_000
MAX_AMOUNT = 10**12

ITALIAN_DATE = "Scrivi una data come 2021-09-06 (anno-mese-giorno)."
ITALIAN_WHEN = "Scrivi una data (2021-09-06) o una data con ora (2021-09-06T17:00)."


class BulletinFileError(ValueError):
    """One problem in one bulletin file."""

    def __init__(
        self, path: Path | str, field_name: str, problem: str, italian: str | None = None
    ) -> None:
        self.path = str(path)
        self.field = field_name
        self.problem = problem
        # What the newsroom's form says beside the field (the CLI says ``problem``).
        self.italian = italian or "Valore non valido."
        super().__init__(f"{self.path}: {field_name}: {problem}")


@dataclass(frozen=True, kw_only=True)
class ItemSource(ItemFacts):
    """A validated bulletin file, ready to store."""

    path: str
    search_text: str
    source_hash: str
    body_markdown: str  # the body as written, after the closing +++ line


def split_front_matter(text: str, path: Path | str) -> tuple[str, str]:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "+++":
        raise BulletinFileError(path, "front matter", "the file must start with a '+++' line")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "+++":
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    raise BulletinFileError(path, "front matter", "no closing '+++' line")


def _string(path: Path | str, meta: dict[str, Any], name: str, *, max_len: int = 300) -> str | None:
    value = meta.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BulletinFileError(path, name, "must be a non-empty string", "Campo vuoto.")
    if len(value) > max_len:
        raise BulletinFileError(
            path,
            name,
            f"longer than {max_len} characters",
            f"Al massimo {max_len} caratteri: ne hai scritti {len(value)}.",
        )
    _refuse_controls(path, name, value)
    return value.strip()


def _refuse_controls(path: Path | str, name: str, value: str) -> None:
    control = CONTROL.search(value)
    if control is not None:
        code = f"U+{ord(control.group()):04X}"
        raise BulletinFileError(
            path,
            name,
            f"contains the control character {code}",
            f"Contiene un carattere di controllo ({code}): toglilo.",
        )


def _date(path: Path | str, meta: dict[str, Any], name: str) -> date | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BulletinFileError(
                path, name, f"not a date (YYYY-MM-DD): {value!r}", ITALIAN_DATE
            ) from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise BulletinFileError(
            path, name, f"must be a date such as 2021-09-06, got {value!r}", ITALIAN_DATE
        )
    return value


def _when(path: Path | str, meta: dict[str, Any], name: str) -> date | datetime | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = day_or_time(value)
        except ValueError:
            raise BulletinFileError(
                path, name, f"not a date or date-time: {value!r}", ITALIAN_WHEN
            ) from None
    if isinstance(value, datetime):
        # Stored as Rome wall-clock time: that is how events are announced and shown.
        if value.tzinfo is not None:
            value = value.astimezone(ROME).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return value
    raise BulletinFileError(
        path, name, f"must be a date or a date-time, got {value!r}", ITALIAN_WHEN
    )


def _amount(path: Path | str, meta: dict[str, Any], name: str) -> int | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise BulletinFileError(
            path,
            name,
            f"must be a whole number of euro from 0 to {MAX_AMOUNT}",
            f"Scrivi un numero intero di euro, da 0 a {MAX_AMOUNT:_}.".replace("_", "."),
        )
    return value


def _strings(path: Path | str, meta: dict[str, Any], name: str) -> tuple[str, ...]:
    value = meta.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BulletinFileError(
            path, name, "must be a list of non-empty strings", "Ogni voce deve avere un testo."
        )
    for v in value:
        _refuse_controls(path, name, v)
    return tuple(v.strip() for v in value)


def _has_host(url: str) -> bool:
    """Whether an http(s) address names a host that can be parsed (``http://[`` cannot)."""
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:
        return False


def _as_datetime(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def _toml_error(path: Path, raw_meta: str, error: tomllib.TOMLDecodeError) -> BulletinFileError:
    """Name the field on the line tomllib complains about, and count lines from the file's
    top (the front matter starts on line 2, after the opening +++)."""
    message = str(error)
    field_name = "front matter"
    position = _TOML_POSITION.search(message)
    if position is not None:
        line_number = int(position.group(1))
        lines = raw_meta.splitlines()
        if 1 <= line_number <= len(lines):
            key = _TOML_KEY.match(lines[line_number - 1])
            if key is not None:
                field_name = key.group(1)
        message = _TOML_POSITION.sub(
            f"(line {line_number + 1} of the file, column {position.group(2)})", message
        )
    return BulletinFileError(path, field_name, f"invalid TOML: {message}")


def parse_item(path: Path, text: str) -> ItemSource:
    """Validate one file's text; raise BulletinFileError naming the first bad field."""
    raw_meta, body = split_front_matter(text, path)
    try:
        meta = tomllib.loads(raw_meta)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(path, raw_meta, error) from None
    return check_item(path, meta, body, source_hash=hashlib.sha256(text.encode()).hexdigest())


def check_item(
    path: Path | str, meta: dict[str, Any], body: str, *, source_hash: str
) -> ItemSource:
    """Validate front-matter values and a Markdown body: the one check of every item,
    whether it comes from a file or from the newsroom's form (``path`` then names the form).

    Raises BulletinFileError naming the first bad field, in English and in Italian.
    """
    unknown = sorted(set(meta) - set(FIELDS))
    if unknown:
        raise BulletinFileError(path, unknown[0], "unknown field", "Campo sconosciuto.")

    title = _string(path, meta, "title", max_len=200)
    if title is None:
        raise BulletinFileError(path, "title", "missing", "Il titolo è obbligatorio.")
    slug = meta.get("slug")
    if slug is None:
        raise BulletinFileError(path, "slug", "missing", "L'indirizzo è obbligatorio.")
    if not isinstance(slug, str) or len(slug) > 80 or not SLUG.match(slug):
        raise BulletinFileError(
            path,
            "slug",
            "must be lowercase letters, digits and single hyphens (at most 80)",
            "Usa lettere minuscole senza accenti, cifre e trattini singoli (al massimo 80).",
        )
    if slug in RESERVED_SLUGS:
        raise BulletinFileError(
            path,
            "slug",
            f"{slug!r} is the address of another page (/bollettino/{slug})",
            f"/bollettino/{slug} è l'indirizzo di un'altra pagina: scegline un altro.",
        )
    kind = meta.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:  # a list or table is unhashable
        raise BulletinFileError(
            path,
            "kind",
            f"must be one of {', '.join(KINDS)}, got {kind!r}",
            f"Scegli tra {', '.join(KINDS)}.",
        )
    position = meta.get("position")
    if (
        isinstance(position, bool)
        or not isinstance(position, int)
        or not 1 <= position <= MAX_POSITION
    ):
        raise BulletinFileError(
            path,
            "position",
            f"must be a whole number from 1 to {MAX_POSITION}",
            f"Scrivi un numero intero da 1 a {MAX_POSITION}.",
        )

    starts, ends = _when(path, meta, "starts"), _when(path, meta, "ends")
    if ends is not None and starts is None:
        raise BulletinFileError(
            path, "ends", "given without starts", "Indica anche quando comincia."
        )
    if (
        starts is not None
        and ends is not None
        and isinstance(starts, datetime) != isinstance(ends, datetime)
    ):
        # iCalendar requires DTSTART and DTEND of the same type, and "from 17:00 to the 21st"
        # is a typo more often than an intent.
        raise BulletinFileError(
            path,
            "ends",
            "must be a date-time when starts has a time, a date when it has not",
            "Se l'inizio ha un'ora, anche la fine deve averla (e viceversa).",
        )
    if starts is not None and ends is not None and _as_datetime(ends) < _as_datetime(starts):
        raise BulletinFileError(
            path, "ends", "is before starts", "La fine viene prima dell'inizio."
        )

    amount_min, amount_max = _amount(path, meta, "amount_min"), _amount(path, meta, "amount_max")
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        raise BulletinFileError(
            path,
            "amount_max",
            "is smaller than amount_min",
            "L'importo massimo è minore del minimo.",
        )

    email = _string(path, meta, "contact_email")
    if email is not None and not EMAIL.match(email):
        raise BulletinFileError(
            path,
            "contact_email",
            f"not an e-mail address: {email!r}",
            "Non è un indirizzo e-mail.",
        )
    links = _strings(path, meta, "links")
    for link in links:
        if not URL.match(link) or not _has_host(link):
            raise BulletinFileError(
                path,
                "links",
                f"not an http(s) URL: {link!r}",
                f"Non è un indirizzo http(s): {link}",
            )
    tags = tuple(dict.fromkeys(t.lower() for t in _strings(path, meta, "tags")))
    for tag in tags:
        if not TAG.match(tag):
            raise BulletinFileError(
                path,
                "tags",
                f"not a valid tag: {tag!r}",
                f"Etichetta non valida: {tag} (lettere, cifre, spazi e trattini, al massimo 40).",
            )

    if not body.strip():
        raise BulletinFileError(
            path,
            "body",
            "the item has no text after the front matter",
            "Il testo è obbligatorio.",
        )
    _refuse_controls(path, "body", body)
    body_html = render_markdown(body)
    text_only = plain_text(body_html)
    first_paragraph = plain_text(body_html.split("</p>", 1)[0]) if "<p>" in body_html else ""
    return ItemSource(
        path=str(path),
        slug=slug,
        title=title,
        kind=kind,
        position=position,
        body_html=body_html,
        summary=summarise(first_paragraph or text_only),
        search_text=text_only,
        source_hash=source_hash,
        body_markdown=body,
        published=_date(path, meta, "published"),
        deadline=_date(path, meta, "deadline"),
        opens=_date(path, meta, "opens"),
        starts=starts,
        ends=ends,
        place=_string(path, meta, "where"),
        organisers=_strings(path, meta, "organisers"),
        amount_min=amount_min,
        amount_max=amount_max,
        budget=_amount(path, meta, "budget"),
        contact_email=email,
        links=links,
        tags=tags,
        author=_string(path, meta, "author"),
    )
