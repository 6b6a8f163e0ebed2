"""Settings: environment variables in, one frozen dataclass out.

Nothing else in greenweb reads ``os.environ``. Every setting is declared once in
``SETTINGS`` with its default and help text, so the README and ``greenweb --help`` can
list them and a test can check that none is undocumented.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """An environment variable holds a value greenweb cannot use."""


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("db_path", "GREENWEB_DB", "data/greenweb.db", "Path of the SQLite database file."),
    Setting("host", "GREENWEB_HOST", "127.0.0.1", "Address `greenweb serve` listens on."),
    Setting("port", "GREENWEB_PORT", "8000", "Port `greenweb serve` listens on."),
    Setting(
        "secret",
        "GREENWEB_SECRET",
        "",
        "Key for form tokens, sessions and address hashing. If unset, one is generated "
        "once and kept in a git-ignored file next to the database.",
    ),
    Setting(
        "base_url",
        "GREENWEB_BASE_URL",
        "http://127.0.0.1:8000",
        "Public address of the site, used in feeds, sitemap and calendar links.",
    ),
    Setting(
        "premoderation",
        "GREENWEB_PREMODERATION",
        "1",
        "1: new questions wait for a moderator; 0: they are published at once.",
    ),
    Setting(
        "question_min_chars",
        "GREENWEB_QUESTION_MIN",
        "15",
        "Fewest characters a question may have.",
    ),
    Setting(
        "question_max_chars",
        "GREENWEB_QUESTION_MAX",
        "1000",
        "Most characters a question may have.",
    ),
    Setting(
        "name_max_chars",
        "GREENWEB_NAME_MAX",
        "40",
        "Most characters of the optional name shown with a question.",
    ),
    Setting(
        "report_threshold",
        "GREENWEB_REPORT_THRESHOLD",
        "3",
        "Reports from different people that hide a question until a moderator reviews it.",
    ),
    Setting(
        "token_min_age",
        "GREENWEB_TOKEN_MIN_AGE",
        "3",
        "Seconds a visitor's form must be open before it is sent (faster is a bot).",
    ),
    Setting(
        "token_max_age",
        "GREENWEB_TOKEN_MAX_AGE",
        "7200",
        "Seconds a form stays valid after the page was served.",
    ),
    Setting(
        "rate_questions_per_hour",
        "GREENWEB_RATE_QUESTIONS_PER_HOUR",
        "5",
        "Questions one client may send per hour; 0 lifts the limit.",
    ),
    Setting(
        "rate_votes_per_hour",
        "GREENWEB_RATE_VOTES_PER_HOUR",
        "60",
        '"Anch\'io" votes one client may send per hour; 0 lifts the limit.',
    ),
    Setting(
        "rate_reports_per_hour",
        "GREENWEB_RATE_REPORTS_PER_HOUR",
        "60",
        "Reports one client may send per hour; 0 lifts the limit.",
    ),
    Setting(
        "login_max_failures",
        "GREENWEB_LOGIN_MAX_FAILURES",
        "5",
        "Failed moderator logins (per client and per name) that lock logins out.",
    ),
    Setting(
        "login_lockout",
        "GREENWEB_LOGIN_LOCKOUT",
        "900",
        "Seconds failed logins are remembered, and so how long a lockout lasts.",
    ),
    Setting(
        "session_max_age",
        "GREENWEB_SESSION_MAX_AGE",
        "28800",
        "Seconds a moderator stays logged in (8 hours).",
    ),
    Setting(
        "grid_intensity",
        "GREENWEB_GRID_INTENSITY",
        "global",
        "Grid carbon intensity for the footprint figures: `global` (494 g/kWh), a "
        "country code such as `ITA`, or a number of g CO2e/kWh.",
    ),
    Setting(
        "green_hosting",
        "GREENWEB_GREEN_HOSTING",
        "0",
        "1 when the host runs on verified renewable energy (changes the CO2e estimate).",
    ),
    Setting(
        "hosting_provider",
        "GREENWEB_HOSTING_PROVIDER",
        "",
        "Domain of the hosting provider, published in /carbon.txt.",
    ),
    Setting(
        "security_contact",
        "GREENWEB_SECURITY_CONTACT",
        "",
        "Contact for /.well-known/security.txt: a mailto:, https: or tel: URI, or an "
        "e-mail address. Unset: the file is not published.",
    ),
    Setting(
        "max_body_bytes",
        "GREENWEB_MAX_BODY_BYTES",
        "32768",
        "Largest request body accepted; bigger ones are refused with 413 before parsing.",
    ),
    Setting(
        "page_cache_bytes",
        "GREENWEB_PAGE_CACHE_BYTES",
        "16777216",
        "Most bytes of compressed pages kept in memory by the page cache.",
    ),
    Setting(
        "page_max_age",
        "GREENWEB_PAGE_MAX_AGE",
        "60",
        "Seconds public pages may be cached by browsers and proxies.",
    ),
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}


def _flag(name: str, raw: str) -> bool:
    if raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name}: expected 1 or 0, got {raw!r}")


def _int(name: str, raw: str, minimum: int = 0, maximum: int | None = None) -> int:
    # ASCII digits only: int() would also take "١٢", "1_000" and 4,000-digit strings.
    stripped = raw.strip()
    digits = stripped[1:] if stripped[:1] in {"-", "+"} else stripped
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 18):
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}")
    value = int(stripped)
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name}: must be at most {maximum}, got {value}")
    return value


def _base_url(raw: str) -> str:
    base_url = raw.strip().rstrip("/")
    try:
        parts = urlsplit(base_url)
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.query
        or parts.fragment
        or not base_url.isprintable()
        or any(c.isspace() for c in base_url)
    ):
        raise SettingsError(f"GREENWEB_BASE_URL: expected an http(s) URL, got {raw!r}")
    return base_url


def _db_path(raw: str) -> Path:
    if not raw.strip() or "\x00" in raw:
        raise SettingsError(f"GREENWEB_DB: expected a file path, got {raw!r}")
    path = Path(raw)
    if not path.name:
        raise SettingsError(f"GREENWEB_DB: expected a file path, got {raw!r}")
    return path


def _security_contact(raw: str) -> str:
    """A URI for security.txt's Contact field; a bare e-mail address becomes mailto:."""
    contact = raw.strip()
    if not contact:
        return ""
    if not contact.isprintable() or any(c.isspace() for c in contact):
        raise SettingsError(f"GREENWEB_SECURITY_CONTACT: unexpected characters in {raw!r}")
    scheme = contact.split(":", 1)[0].lower() if ":" in contact else ""
    if not scheme and "@" in contact.strip("@"):
        return f"mailto:{contact}"
    if scheme in {"mailto", "tel"} and len(contact) > len(scheme) + 1:
        return contact
    if scheme == "https" and urlsplit(contact).netloc:
        return contact
    raise SettingsError(
        "GREENWEB_SECURITY_CONTACT: expected a mailto:, https: or tel: URI or an e-mail "
        f"address, got {raw!r}"
    )


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path(_DEFAULTS["db_path"])
    host: str = _DEFAULTS["host"]
    port: int = int(_DEFAULTS["port"])
    secret: str = field(default="", repr=False)
    base_url: str = _DEFAULTS["base_url"]
    premoderation: bool = True
    question_min_chars: int = 15
    question_max_chars: int = 1000
    name_max_chars: int = 40
    report_threshold: int = 3
    token_min_age: int = 3
    token_max_age: int = 7200
    rate_questions_per_hour: int = 5
    rate_votes_per_hour: int = 60
    rate_reports_per_hour: int = 60
    login_max_failures: int = 5
    login_lockout: int = 900
    session_max_age: int = 8 * 3600
    grid_intensity: str = "global"
    green_hosting: bool = False
    hosting_provider: str = ""
    security_contact: str = ""
    page_cache_bytes: int = 16 * 1024 * 1024
    page_max_age: int = 60
    max_body_bytes: int = 32768

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
        # A variable set to an empty string counts as unset: `GREENWEB_DB=` must not put the
        # database at "." nor `GREENWEB_PREMODERATION=` turn moderation off.
        raw = {s.name: env.get(s.env, "").strip() or s.default for s in SETTINGS}
        base_url = _base_url(raw["base_url"])
        db_path = _db_path(raw["db_path"])
        security_contact = _security_contact(raw["security_contact"])
        minimum = _int("GREENWEB_QUESTION_MIN", raw["question_min_chars"], 1)
        maximum = _int("GREENWEB_QUESTION_MAX", raw["question_max_chars"], minimum)
        token_min_age = _int("GREENWEB_TOKEN_MIN_AGE", raw["token_min_age"], 0)
        return cls(
            db_path=db_path,
            host=raw["host"],
            port=_int("GREENWEB_PORT", raw["port"], 0, 65535),
            secret=raw["secret"] or load_or_create_secret(db_path),
            base_url=base_url,
            premoderation=_flag("GREENWEB_PREMODERATION", raw["premoderation"]),
            question_min_chars=minimum,
            question_max_chars=maximum,
            name_max_chars=_int("GREENWEB_NAME_MAX", raw["name_max_chars"], 1),
            report_threshold=_int("GREENWEB_REPORT_THRESHOLD", raw["report_threshold"], 1),
            token_min_age=token_min_age,
            token_max_age=_int("GREENWEB_TOKEN_MAX_AGE", raw["token_max_age"], token_min_age + 1),
            rate_questions_per_hour=_int(
                "GREENWEB_RATE_QUESTIONS_PER_HOUR", raw["rate_questions_per_hour"], 0
            ),
            rate_votes_per_hour=_int("GREENWEB_RATE_VOTES_PER_HOUR", raw["rate_votes_per_hour"], 0),
            rate_reports_per_hour=_int(
                "GREENWEB_RATE_REPORTS_PER_HOUR", raw["rate_reports_per_hour"], 0
            ),
            login_max_failures=_int("GREENWEB_LOGIN_MAX_FAILURES", raw["login_max_failures"], 1),
            login_lockout=_int("GREENWEB_LOGIN_LOCKOUT", raw["login_lockout"], 1),
            session_max_age=_int("GREENWEB_SESSION_MAX_AGE", raw["session_max_age"], 60),
            grid_intensity=raw["grid_intensity"].strip() or "global",
            green_hosting=_flag("GREENWEB_GREEN_HOSTING", raw["green_hosting"]),
            hosting_provider=raw["hosting_provider"].strip(),
            security_contact=security_contact,
            page_cache_bytes=_int("GREENWEB_PAGE_CACHE_BYTES", raw["page_cache_bytes"], 0),
            page_max_age=_int("GREENWEB_PAGE_MAX_AGE", raw["page_max_age"], 0),
            max_body_bytes=_int("GREENWEB_MAX_BODY_BYTES", raw["max_body_bytes"], 1024),
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
            existing = path.read_text().strip()
            if not existing:
                raise SettingsError(f"{path}: the secret file is empty; delete it") from None
            return existing
    finally:
        draft.unlink(missing_ok=True)
    return value


def _read_secret(path: Path) -> str:
    # The process that won the O_EXCL race may not have written its line yet: wait a little
    # for it rather than run with an empty key. A file that stays empty is an error.
    for _ in range(50):
        value = path.read_text().strip()
        if value:
            return value
        time.sleep(0.01)
    raise SettingsError(
        f"GREENWEB_SECRET: {path} is empty; delete it to generate a new secret, or set "
        "GREENWEB_SECRET"
    )


def documented_names() -> list[str]:
    return [f.name for f in fields(Settings)]
