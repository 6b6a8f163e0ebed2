"""Settings: environment variables in, one frozen dataclass out.

Nothing else in greenweb reads ``os.environ``. Every setting is declared once in
``SETTINGS`` with its default and help text, so the README and ``greenweb --help`` can
list them and a test can check that none is undocumented.
"""

from __future__ import annotations

import os
import secrets
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
        "Contact for /.well-known/security.txt (mailto: or https: URL).",
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


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {value}")
    return value


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
    grid_intensity: str = "global"
    green_hosting: bool = False
    hosting_provider: str = ""
    security_contact: str = ""
    page_cache_bytes: int = 16 * 1024 * 1024
    page_max_age: int = 60

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
        raw = {s.name: env.get(s.env, s.default) for s in SETTINGS}
        base_url = raw["base_url"].rstrip("/")
        if urlsplit(base_url).scheme not in {"http", "https"} or not urlsplit(base_url).netloc:
            raise SettingsError(f"GREENWEB_BASE_URL: expected an http(s) URL, got {base_url!r}")
        db_path = Path(raw["db_path"])
        minimum = _int("GREENWEB_QUESTION_MIN", raw["question_min_chars"], 1)
        maximum = _int("GREENWEB_QUESTION_MAX", raw["question_max_chars"], minimum)
        return cls(
            db_path=db_path,
            host=raw["host"],
            port=_int("GREENWEB_PORT", raw["port"], 0),
            secret=raw["secret"] or load_or_create_secret(db_path),
            base_url=base_url,
            premoderation=_flag("GREENWEB_PREMODERATION", raw["premoderation"]),
            question_min_chars=minimum,
            question_max_chars=maximum,
            grid_intensity=raw["grid_intensity"].strip() or "global",
            green_hosting=_flag("GREENWEB_GREEN_HOSTING", raw["green_hosting"]),
            hosting_provider=raw["hosting_provider"].strip(),
            security_contact=raw["security_contact"].strip(),
            page_cache_bytes=_int("GREENWEB_PAGE_CACHE_BYTES", raw["page_cache_bytes"], 0),
            page_max_age=_int("GREENWEB_PAGE_MAX_AGE", raw["page_max_age"], 0),
        )


def secret_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".secret")


def load_or_create_secret(db_path: Path) -> str:
    """Return the secret kept next to the database, creating it on first use."""
    path = secret_path(db_path)
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
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


def documented_names() -> list[str]:
    return [f.name for f in fields(Settings)]
