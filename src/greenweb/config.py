"""Settings: environment variables in, one frozen dataclass out.

Nothing else in greenweb reads ``os.environ``. Each setting is declared once, as a field of
:class:`Settings` made by :func:`setting`: its environment variable, typed default, help
text and parser. ``from_env``, ``greenweb --help``, the README's table and its test all
read that one declaration (the habit of datasette's ``SETTINGS``).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from email.headerregistry import AddressHeader, HeaderRegistry
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import SplitResult, urlsplit

from greenweb.footprint.carbon import CarbonModel, parse_grid

T = TypeVar("T")


class SettingsError(ValueError):
    """An environment variable holds a value greenweb cannot use."""


# --- parsers: raw text in, a typed value out, or SettingsError naming the variable ------


def _flag(env: str, raw: str) -> bool:
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{env}: expected 1 or 0, got {raw!r}")


def _whole(minimum: int, maximum: int | None = None) -> Callable[[str, str], int]:
    def parse(env: str, raw: str) -> int:
        # ASCII digits only: int() would also take "١٢", "1_000" and 4,000-digit strings.
        digits = raw[1:] if raw[:1] in {"-", "+"} else raw
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 18):
            raise SettingsError(f"{env}: expected a whole number, got {raw!r}")
        value = int(raw)
        if value < minimum:
            raise SettingsError(f"{env}: must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise SettingsError(f"{env}: must be at most {maximum}, got {value}")
        return value

    return parse


def _printable(raw: str) -> bool:
    return raw.isprintable() and not any(c.isspace() for c in raw)


def _db_path(env: str, raw: str) -> Path:
    path = Path(raw)
    if "\x00" in raw or not path.name:
        raise SettingsError(f"{env}: expected a file path, got {raw!r}")
    return path


def _host(env: str, raw: str) -> str:
    if not _printable(raw):
        raise SettingsError(f"{env}: expected an address such as 127.0.0.1, got {raw!r}")
    return raw


def _secret(env: str, raw: str) -> str:
    if not raw.isprintable():
        raise SettingsError(f"{env}: expected printable characters")
    return raw


def _split_url(raw: str) -> SplitResult | None:
    """urlsplit, or None where it (or the port) raises: ``https://[`` or ``:port``."""
    try:
        parts = urlsplit(raw)
        _ = parts.port
    except ValueError:
        return None
    return parts


def _base_url(env: str, raw: str) -> str:
    base_url = raw.rstrip("/")
    parts = _split_url(base_url)
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.query
        or parts.fragment
        or not _printable(base_url)
    ):
        raise SettingsError(f"{env}: expected an http(s) URL, got {raw!r}")
    return base_url


def _grid(env: str, raw: str) -> str:
    try:
        label, _ = parse_grid(raw)
    except ValueError:
        raise SettingsError(
            f"{env}: expected 'global', a country code such as ITA, or g CO2e/kWh, got {raw!r}"
        ) from None
    return label if label == "global" else raw


def _domain(env: str, raw: str) -> str:
    parts = _split_url(f"https://{raw}")
    if not _printable(raw) or parts is None or parts.netloc != raw or parts.path:
        raise SettingsError(f"{env}: expected a domain such as example.org, got {raw!r}")
    return raw


def _security_contact(env: str, raw: str) -> str:
    """A URI for security.txt's Contact field; a bare e-mail address becomes mailto:."""
    if not _printable(raw):
        raise SettingsError(f"{env}: unexpected characters in {raw!r}")
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if not scheme and "@" in raw.strip("@"):
        return f"mailto:{raw}"
    if scheme in {"mailto", "tel"} and len(raw) > len(scheme) + 1:
        return raw
    parts = _split_url(raw)
    if scheme == "https" and parts is not None and parts.hostname:
        return raw
    raise SettingsError(
        f"{env}: expected a mailto:, https: or tel: URI or an e-mail address, got {raw!r}"
    )


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def parse(env: str, raw: str) -> str:
        value = raw.lower()
        if value not in allowed:
            raise SettingsError(f"{env}: expected one of {', '.join(allowed)}, got {raw!r}")
        return value

    return parse


def _login(env: str, raw: str) -> str:
    if not raw.isprintable():
        raise SettingsError(f"{env}: expected printable characters")
    return raw


def _mail_from(env: str, raw: str) -> str:
    """One address, optionally with a display name: ``Bollettino <bollettino@example.org>``."""
    header = HeaderRegistry()("from", raw) if raw.isprintable() else None
    addresses = header.addresses if isinstance(header, AddressHeader) else ()
    if (
        header is None
        or header.defects
        or len(addresses) != 1
        or "." not in addresses[0].domain
        or not addresses[0].username
    ):
        raise SettingsError(
            f"{env}: expected one address such as Bollettino <bollettino@example.org>, got {raw!r}"
        )
    return raw


# An SPDX licence identifier as the SPDX list spells them (CC-BY-4.0, ODbL-1.0, CC0-1.0):
# letters, digits, dots, hyphens and a trailing "+", starting with a letter.
_SPDX_ID: Final = re.compile(r"[A-Za-z][A-Za-z0-9.-]{1,62}[A-Za-z0-9+]")


def _licence(env: str, raw: str) -> str:
    if not _SPDX_ID.fullmatch(raw) or ".." in raw or "--" in raw:
        raise SettingsError(f"{env}: expected an SPDX licence id such as CC-BY-4.0, got {raw!r}")
    return raw


# --- the declaration ---------------------------------------------------------------------

ENV: Final = "env"
HELP: Final = "help"
PARSE: Final = "parse"
SHOWN: Final = "shown"


def setting(
    env: str,
    default: T,
    parse: Callable[[str, str], T],
    help: str,
    *,
    shown: str | None = None,
    repr: bool = True,
) -> T:
    """One setting: the dataclass field of ``Settings``, carrying its variable, parser and
    help. ``shown`` is the default as documented (the README, ``--help``); "" for none."""
    if shown is None:
        shown = "1" if default is True else "0" if default is False else str(default)
    metadata = {ENV: env, HELP: help, PARSE: parse, SHOWN: shown}
    return field(default=default, metadata=metadata, repr=repr)


@dataclass(frozen=True)
class Settings:
    db_path: Path = setting(
        "GREENWEB_DB", Path("data/greenweb.db"), _db_path, "Path of the SQLite database file."
    )
    host: str = setting("GREENWEB_HOST", "127.0.0.1", _host, "Address `greenweb serve` listens on.")
    port: int = setting(
        "GREENWEB_PORT", 8000, _whole(0, 65535), "Port `greenweb serve` listens on."
    )
    secret: str = setting(
        "GREENWEB_SECRET",
        "",
        _secret,
        "Key for form tokens, sessions and address hashing. If unset, one is generated "
        "once and kept in a git-ignored file next to the database.",
        repr=False,
    )
    base_url: str = setting(
        "GREENWEB_BASE_URL",
        "http://127.0.0.1:8000",
        _base_url,
        "Public address of the site, used in feeds, sitemap and calendar links.",
    )
    premoderation: bool = setting(
        "GREENWEB_PREMODERATION",
        True,
        _flag,
        "1: new questions wait for a moderator; 0: they are published at once.",
    )
    question_min_chars: int = setting(
        "GREENWEB_QUESTION_MIN", 15, _whole(1), "Fewest characters a question may have."
    )
    question_max_chars: int = setting(
        "GREENWEB_QUESTION_MAX",
        1000,
        _whole(1),
        "Most characters a question may have (at least GREENWEB_QUESTION_MIN).",
    )
    name_max_chars: int = setting(
        "GREENWEB_NAME_MAX",
        40,
        _whole(1),
        "Most characters of the optional name shown with a question.",
    )
    report_threshold: int = setting(
        "GREENWEB_REPORT_THRESHOLD",
        3,
        _whole(1),
        "Reports from different people that hide a question until a moderator reviews it.",
    )
    token_min_age: int = setting(
        "GREENWEB_TOKEN_MIN_AGE",
        3,
        _whole(0),
        "Seconds a visitor's form must be open before it is sent (faster is a bot).",
    )
    token_max_age: int = setting(
        "GREENWEB_TOKEN_MAX_AGE",
        7200,
        _whole(1),
        "Seconds a form stays valid after the page was served (more than the minimum).",
    )
    rate_questions_per_hour: int = setting(
        "GREENWEB_RATE_QUESTIONS_PER_HOUR",
        5,
        _whole(0),
        "Questions one client may send per hour; 0 lifts the limit.",
    )
    rate_votes_per_hour: int = setting(
        "GREENWEB_RATE_VOTES_PER_HOUR",
        60,
        _whole(0),
        '"Anch\'io" votes one client may send per hour; 0 lifts the limit.',
    )
    rate_reports_per_hour: int = setting(
        "GREENWEB_RATE_REPORTS_PER_HOUR",
        60,
        _whole(0),
        "Reports one client may send per hour; 0 lifts the limit.",
    )
    rate_subscriptions_per_hour: int = setting(
        "GREENWEB_RATE_SUBSCRIPTIONS_PER_HOUR",
        5,
        _whole(0),
        "Subscription and management requests one client may send per hour; 0 lifts the limit.",
    )
    login_max_failures: int = setting(
        "GREENWEB_LOGIN_MAX_FAILURES",
        5,
        _whole(1),
        "Failed moderator logins (per client and per name) that lock logins out.",
    )
    login_lockout: int = setting(
        "GREENWEB_LOGIN_LOCKOUT",
        900,
        _whole(1),
        "Seconds failed logins are remembered, and so how long a lockout lasts.",
    )
    session_max_age: int = setting(
        "GREENWEB_SESSION_MAX_AGE",
        8 * 3600,
        _whole(60),
        "Seconds a moderator stays logged in (8 hours).",
    )
    grid_intensity: str = setting(
        "GREENWEB_GRID_INTENSITY",
        "global",
        _grid,
        "Grid carbon intensity for the footprint figures: `global` (494 g/kWh), a "
        "country code such as `ITA`, or a number of g CO2e/kWh.",
    )
    green_hosting: bool = setting(
        "GREENWEB_GREEN_HOSTING",
        False,
        _flag,
        "1 when the host runs on verified renewable energy (changes the CO2e estimate).",
    )
    hosting_provider: str = setting(
        "GREENWEB_HOSTING_PROVIDER",
        "",
        _domain,
        "Domain of the hosting provider, published in /carbon.txt.",
    )
    security_contact: str = setting(
        "GREENWEB_SECURITY_CONTACT",
        "",
        _security_contact,
        "Contact for /.well-known/security.txt: a mailto:, https: or tel: URI, or an "
        "e-mail address. Unset: the file is not published.",
    )
    max_body_bytes: int = setting(
        "GREENWEB_MAX_BODY_BYTES",
        32768,
        _whole(1024),
        "Largest request body accepted; bigger ones are refused with 413 before parsing.",
    )
    page_cache_bytes: int = setting(
        "GREENWEB_PAGE_CACHE_BYTES",
        16 * 1024 * 1024,
        _whole(0),
        "Most bytes of compressed pages kept in memory by the page cache.",
    )
    page_max_age: int = setting(
        "GREENWEB_PAGE_MAX_AGE",
        60,
        _whole(0),
        "Seconds public pages may be cached by browsers and proxies.",
    )
    smtp_host: str = setting(
        "GREENWEB_SMTP_HOST",
        "",
        _host,
        "SMTP server the bulletin's e-mails are sent through. Unset: e-mail is not "
        "available (the subscription form says so and stores nothing).",
    )
    smtp_port: int = setting(
        "GREENWEB_SMTP_PORT", 587, _whole(1, 65535), "Port of the SMTP server."
    )
    smtp_username: str = setting(
        "GREENWEB_SMTP_USERNAME",
        "",
        _login,
        "Login name at the SMTP server; unset: no login (GREENWEB_SMTP_PASSWORD goes with it).",
    )
    smtp_password: str = setting(
        "GREENWEB_SMTP_PASSWORD",
        "",
        _secret,
        "Password at the SMTP server, with GREENWEB_SMTP_USERNAME.",
        repr=False,
    )
    smtp_tls: str = setting(
        "GREENWEB_SMTP_TLS",
        "starttls",
        _choice("none", "starttls", "tls"),
        "`starttls` (upgrade a plain connection, port 587), `tls` (TLS from the start, "
        "port 465) or `none` (a relay on this machine only).",
    )
    mail_from: str = setting(
        "GREENWEB_MAIL_FROM",
        "",
        _mail_from,
        "Sender of the e-mails, such as `Bollettino <bollettino@example.org>`; needed with "
        "GREENWEB_SMTP_HOST.",
    )
    mail_rate_per_minute: int = setting(
        "GREENWEB_MAIL_RATE_PER_MINUTE",
        60,
        _whole(1),
        "Most e-mails sent per minute (the provider's limit, or less).",
    )
    mail_delivery: str = setting(
        "GREENWEB_MAIL_DELIVERY",
        "cron",
        _choice("cron", "serve"),
        "`cron`: `greenweb newsletter send` delivers the outbox, from cron; `serve`: "
        "`greenweb serve` also delivers it in the background.",
    )
    data_license: str = setting(
        "GREENWEB_DATA_LICENSE",
        "CC-BY-4.0",
        _licence,
        "SPDX id of the licence of the board's open data and e-book (/domande/dati), "
        "stated on the page and in the files.",
    )

    @property
    def mail_enabled(self) -> bool:
        """E-mail can be sent: a subscription form is offered and the outbox delivered."""
        return bool(self.smtp_host)

    @property
    def carbon_model(self) -> CarbonModel:
        """Grams per view as GREENWEB_GRID_INTENSITY and GREENWEB_GREEN_HOSTING describe."""
        return CarbonModel.from_setting(self.grid_intensity, self.green_hosting)

    @property
    def https(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    @property
    def secret_bytes(self) -> bytes:
        if not self.secret:
            raise SettingsError("no secret configured: use Settings.from_env or pass secret=")
        return self.secret.encode()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for declared in SETTINGS:
            # A variable set to an empty string counts as unset: `GREENWEB_DB=` must not
            # put the database at "." nor `GREENWEB_PREMODERATION=` turn moderation off.
            raw = env.get(declared.env, "").strip()
            if raw:
                values[declared.name] = declared.parse(declared.env, raw)
        _check_together(values)
        if not values.get("secret"):
            values["secret"] = load_or_create_secret(values.get("db_path", cls.db_path))
        return cls(**values)


def _check_together(values: Mapping[str, Any]) -> None:
    """The rules between two settings, against the defaults of the ones left unset."""
    defaults = Settings()
    minimum = values.get("question_min_chars", defaults.question_min_chars)
    maximum = values.get("question_max_chars", defaults.question_max_chars)
    if maximum < minimum:
        raise SettingsError(
            f"GREENWEB_QUESTION_MAX: must be at least GREENWEB_QUESTION_MIN ({minimum}), "
            f"got {maximum}"
        )
    youngest = values.get("token_min_age", defaults.token_min_age)
    oldest = values.get("token_max_age", defaults.token_max_age)
    if oldest <= youngest:
        raise SettingsError(
            f"GREENWEB_TOKEN_MAX_AGE: must be more than GREENWEB_TOKEN_MIN_AGE ({youngest}), "
            f"got {oldest}"
        )
    _check_mail(values, defaults)


def _check_mail(values: Mapping[str, Any], defaults: Settings) -> None:
    def given(name: str) -> Any:
        return values.get(name, getattr(defaults, name))

    if given("smtp_username") and not given("smtp_password"):
        raise SettingsError("GREENWEB_SMTP_PASSWORD: required with GREENWEB_SMTP_USERNAME")
    if given("smtp_password") and not given("smtp_username"):
        raise SettingsError("GREENWEB_SMTP_USERNAME: required with GREENWEB_SMTP_PASSWORD")
    if not given("smtp_host"):
        if given("mail_delivery") == "serve":
            raise SettingsError("GREENWEB_MAIL_DELIVERY: serve needs GREENWEB_SMTP_HOST")
        return
    if not given("mail_from"):
        raise SettingsError("GREENWEB_MAIL_FROM: required with GREENWEB_SMTP_HOST")
    # RFC 8058: the one-click unsubscribe address in every e-mail must be https.
    if urlsplit(given("base_url")).scheme != "https":
        raise SettingsError(
            "GREENWEB_BASE_URL: must be an https URL when GREENWEB_SMTP_HOST is set "
            "(e-mails carry an https unsubscribe link)"
        )


@dataclass(frozen=True)
class Setting:
    """One declared setting, as the documentation and ``from_env`` read it."""

    name: str
    env: str
    default: str  # as documented; "" when there is none
    help: str
    parse: Callable[[str, str], Any]


SETTINGS: Final[tuple[Setting, ...]] = tuple(
    Setting(f.name, f.metadata[ENV], f.metadata[SHOWN], f.metadata[HELP], f.metadata[PARSE])
    for f in fields(Settings)
)


def secret_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".secret")


def load_or_create_secret(db_path: Path) -> str:
    """Return the secret kept next to the database, creating it on first use."""
    path = secret_path(db_path)
    try:
        return _load_or_create_secret(path)
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(
            f"GREENWEB_SECRET: unset, and no generated one can be kept in {path}: {error}"
        ) from None


def _load_or_create_secret(path: Path) -> str:
    if path.exists():
        return _read_secret(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    # Written whole under a private name, then linked into place: link() fails if the file
    # exists, so workers starting at once agree on one secret, and none can read a file
    # another has created but not yet filled.
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return _read_secret(path)
    finally:
        draft.unlink(missing_ok=True)
    return value


def _read_secret(path: Path) -> str:
    # The file is only ever linked into place whole (above), so an empty one was emptied
    # by hand: refuse it rather than run with an empty key.
    value = path.read_text().strip()
    if not value:
        raise SettingsError(
            f"GREENWEB_SECRET: {path} is empty; delete it to generate a new secret, or set "
            "GREENWEB_SECRET"
        )
    return value
