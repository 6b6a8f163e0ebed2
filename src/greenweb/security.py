"""Form tokens, signed values, client hashing, rate limits, password hashing and session
values.

Nothing here knows about HTTP: callers pass the server secret, the time (``now``, Unix
seconds, so tests can move the clock instead of sleeping) and, for the parts that keep
state, an ``aiosqlite`` connection. State lives in SQLite, not in process memory, so
several worker processes enforce one limit together.

Every HMAC here is keyed with the server secret and starts with its own label, so a value
made for one purpose (a vote hash, a session) is never valid for another.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import ipaddress
import re
import secrets
import sqlite3
from dataclasses import dataclass

import aiosqlite
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from greenweb.db import fetch_one

# --- form tokens ----------------------------------------------------------------------

FORM_NAME = re.compile(r"^[a-z0-9-]{1,60}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{22}$")
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_ISSUED = re.compile(r"^[0-9]{1,12}$")


class TokenProblem(enum.Enum):
    """Why a form token was refused; each has its own Italian explanation."""

    MISSING = "missing"
    FORGED = "forged"
    OTHER_FORM = "other-form"
    EXPIRED = "expired"
    TOO_YOUNG = "too-young"
    USED = "used"


TOKEN_MESSAGES = {
    TokenProblem.MISSING: "Il modulo è incompleto: ricarica la pagina e invialo di nuovo.",
    TokenProblem.FORGED: "Il modulo non è valido: ricarica la pagina e invialo di nuovo.",
    TokenProblem.OTHER_FORM: "Il modulo appartiene a un'altra pagina: ricarica la pagina.",
    TokenProblem.EXPIRED: "Il modulo è scaduto perché la pagina è aperta da troppo tempo: "
    "controlla il testo e invialo di nuovo.",
    TokenProblem.TOO_YOUNG: "Invio troppo rapido: attendi qualche secondo e invia di nuovo.",
    TokenProblem.USED: "Questo modulo è già stato inviato, e lo abbiamo ricevuto una volta sola.",
}


class TokenError(Exception):
    def __init__(self, problem: TokenProblem) -> None:
        self.problem = problem
        super().__init__(problem.value)

    @property
    def message(self) -> str:
        return TOKEN_MESSAGES[self.problem]


@dataclass(frozen=True)
class FormToken:
    form: str
    issued_at: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _token_signature(secret: bytes, issued_at: int, form: str, nonce: str, binding: str) -> str:
    message = f"greenweb-form-v1|{issued_at}|{form}|{nonce}|{binding}".encode()
    return _b64(hmac.new(secret, message, hashlib.sha256).digest())


def issue_token(
    secret: bytes, form: str, now: float, *, binding: str = "", nonce: str | None = None
) -> str:
    """A token for one form: ``issued.form.nonce.signature``.

    ``binding`` (not carried in the token) ties it to something the server knows at both
    ends, such as a moderator's session, so a token leaked from one session is worthless in
    another.
    """
    if not FORM_NAME.match(form):
        raise ValueError(f"invalid form name {form!r}")
    issued_at = int(now)
    nonce = nonce or secrets.token_urlsafe(16)
    signature = _token_signature(secret, issued_at, form, nonce, binding)
    return f"{issued_at}.{form}.{nonce}.{signature}"


def verify_token(
    secret: bytes,
    token: str | None,
    form: str,
    now: float,
    *,
    min_age: float,
    max_age: float,
    binding: str = "",
) -> FormToken:
    """Check a token's shape, signature, form and age; raise TokenError with the reason.

    Whether the nonce was already used is a database question: see ``consume_nonce``.
    """
    if not token:
        raise TokenError(TokenProblem.MISSING)
    parts = token.split(".")
    if len(parts) != 4:
        raise TokenError(TokenProblem.FORGED)
    issued_raw, token_form, nonce, signature = parts
    if not (
        _ISSUED.match(issued_raw)
        and FORM_NAME.match(token_form)
        and _NONCE.match(nonce)
        and _SIGNATURE.match(signature)
    ):
        raise TokenError(TokenProblem.FORGED)
    issued_at = int(issued_raw)
    expected = _token_signature(secret, issued_at, token_form, nonce, binding)
    if not hmac.compare_digest(expected, signature):
        raise TokenError(TokenProblem.FORGED)
    # The signature is ours, so the form name is too: a valid token for another form.
    if token_form != form:
        raise TokenError(TokenProblem.OTHER_FORM)
    age = now - issued_at
    if age > max_age:
        raise TokenError(TokenProblem.EXPIRED)
    if age < min_age:
        raise TokenError(TokenProblem.TOO_YOUNG)
    return FormToken(form=token_form, issued_at=issued_at, nonce=nonce)


async def nonce_used(conn: aiosqlite.Connection, nonce: str) -> bool:
    row = await fetch_one(conn, "SELECT 1 FROM used_nonces WHERE nonce = ?", (nonce,))
    return row is not None


async def consume_nonce(
    conn: aiosqlite.Connection, token: FormToken, now: float, *, max_age: float
) -> None:
    """Mark the token used, inside the caller's write transaction.

    Run in the same transaction as the write the form asks for: of two identical
    submissions one commits both, the other fails here and its transaction rolls back.
    Nonces of tokens that can no longer be valid are forgotten on the way.
    """
    await conn.execute("DELETE FROM used_nonces WHERE used_at < ?", (int(now - max_age) - 1,))
    try:
        await conn.execute(
            "INSERT INTO used_nonces (nonce, form, used_at) VALUES (?, ?, ?)",
            (token.nonce, token.form, int(now)),
        )
    except sqlite3.IntegrityError:
        raise TokenError(TokenProblem.USED) from None


# --- signed values --------------------------------------------------------------------

_SIGNED_VALUE = re.compile(r"^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$")


def _value_signature(secret: bytes, purpose: str, value: str) -> str:
    message = f"greenweb-signed-v1|{purpose}|{value}".encode()
    return _b64(hmac.new(secret, message, hashlib.sha256).digest())


def sign_value(secret: bytes, purpose: str, value: str) -> str:
    """``value.signature``: an address that opens one thing for whoever holds it (the
    asker's private feed), with no account and no row to look up. No expiry: the value
    names what it opens, and the purpose keeps it from opening anything else."""
    if not _SIGNED_VALUE.match(f"{value}.{'A' * 43}"):
        raise ValueError(f"cannot sign {value!r}: letters, digits, '-' and '_' only")
    return f"{value}.{_value_signature(secret, purpose, value)}"


def read_signed(secret: bytes, purpose: str, token: str) -> str | None:
    """The value of a token made by :func:`sign_value` for ``purpose``; None for any
    other text (malformed, truncated, forged, or made for another purpose)."""
    match = _SIGNED_VALUE.match(token)
    if match is None:
        return None
    value, signature = match.groups()
    if not hmac.compare_digest(_value_signature(secret, purpose, value), signature):
        return None
    return value


# --- client hashing -------------------------------------------------------------------


def client_key(address: str | None) -> str:
    """The part of a client address that identifies one client.

    An IPv6 client usually controls a whole /64, so it counts as one client; anything that
    is not an IP address (a Unix socket, a test client) is kept as it is.
    """
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False).network_address) + "/64"
    return str(ip)


def client_hash(secret: bytes, address: str | None, purpose: str) -> str:
    """A keyed hash of a client for one purpose (e.g. ``vote:12``, ``rate``).

    The raw address is never stored; different purposes give unrelated hashes, so votes on
    two questions cannot be linked to each other or to the rate-limit records.
    """
    message = f"greenweb-client-v1|{purpose}|{client_key(address)}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def name_hash(secret: bytes, name: str) -> str:
    """A keyed hash of a moderator name, for the per-name login throttle."""
    message = f"greenweb-login-name-v1|{name.strip().casefold()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


# --- rate limits ----------------------------------------------------------------------

HOUR = 3600


@dataclass(frozen=True)
class RateRule:
    action: str
    limit: int  # events allowed per window; 0 means no limit
    window: int = HOUR


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"retry after {self.retry_after} s")


async def check_rate(conn: aiosqlite.Connection, client: str, rule: RateRule, now: float) -> None:
    """Raise RateLimited when ``client`` used up ``rule`` in the window ending now."""
    if rule.limit <= 0:
        return
    row = await fetch_one(
        conn,
        "SELECT count(*), min(at) FROM rate_events WHERE client_hash = ? AND action = ? AND at > ?",
        (client, rule.action, int(now) - rule.window),
    )
    count, oldest = (row[0], row[1]) if row is not None else (0, None)
    if count >= rule.limit and oldest is not None:
        # The oldest counted event leaves the window first; then one more is allowed.
        raise RateLimited(int(oldest) + rule.window - int(now) + 1)


async def record_event(
    conn: aiosqlite.Connection, client: str, action: str, now: float, *, keep: int = HOUR
) -> None:
    """Remember one event; events older than ``keep`` seconds are dropped on the way."""
    await conn.execute("DELETE FROM rate_events WHERE at < ?", (int(now) - keep,))
    await conn.execute(
        "INSERT INTO rate_events (client_hash, action, at) VALUES (?, ?, ?)",
        (client, action, int(now)),
    )


async def hit_rate(
    conn: aiosqlite.Connection, client: str, rule: RateRule, now: float, *, keep: int = HOUR
) -> None:
    """check_rate, then record_event: call inside the write transaction of the action."""
    await check_rate(conn, client, rule, now)
    if rule.limit > 0:
        await record_event(conn, client, rule.action, now, keep=max(keep, rule.window))


# --- login throttling -----------------------------------------------------------------

LOGIN_FAILURE = "login-failure"


async def login_retry_after(
    conn: aiosqlite.Connection,
    keys: list[str],
    now: float,
    *,
    max_failures: int,
    lockout: int,
) -> int | None:
    """Seconds to wait before the next login attempt for any of ``keys``, or None.

    After the n-th recent failure the next attempt must wait 2**(n-1) seconds (1, 2, 4...),
    never more than ``lockout``; at ``max_failures`` failures within ``lockout`` seconds,
    logins for that key stop until the oldest of them is older than ``lockout``.
    """
    wait = 0
    for key in keys:
        row = await fetch_one(
            conn,
            "SELECT count(*), min(at), max(at) FROM rate_events "
            "WHERE client_hash = ? AND action = ? AND at > ?",
            (key, LOGIN_FAILURE, int(now) - lockout),
        )
        if row is None or not row[0]:
            continue
        count, oldest, latest = int(row[0]), int(row[1]), int(row[2])
        if count >= max_failures:
            wait = max(wait, oldest + lockout - int(now) + 1)
        else:
            # Capped: with GREENWEB_LOGIN_MAX_FAILURES=100, 2**98 s is no answer to give.
            wait = max(wait, latest + min(2 ** (count - 1), lockout) - int(now))
    return wait if wait > 0 else None


async def record_login_failure(
    conn: aiosqlite.Connection, keys: list[str], now: float, *, lockout: int
) -> None:
    for key in keys:
        await record_event(conn, key, LOGIN_FAILURE, now, keep=max(lockout, HOUR))


async def clear_login_failures(conn: aiosqlite.Connection, keys: list[str]) -> None:
    for key in keys:
        await conn.execute(
            "DELETE FROM rate_events WHERE client_hash = ? AND action = ?", (key, LOGIN_FAILURE)
        )


# --- passwords ------------------------------------------------------------------------

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024

# argon2id with argon2-cffi's defaults (RFC 9106, low-memory profile).
_hasher = PasswordHasher()
# Verified against when the name is unknown, so that an unknown name costs as much time as
# a wrong password and response times do not tell which names exist. Made on first use,
# not at import.
_dummy_hash: str | None = None


def configure_password_hashing(hasher: PasswordHasher) -> PasswordHasher:
    """Use other argon2 parameters; returns the previous hasher (tests use cheap ones)."""
    global _hasher, _dummy_hash
    previous = _hasher
    _hasher, _dummy_hash = hasher, None
    return previous


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("greenweb-no-such-moderator")
    return _dummy_hash


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification."""
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return _hasher.verify(password_hash or _dummy(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable (English, for the CLI), or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"too short: use at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"too long: use at most {MAX_PASSWORD_CHARS} characters"
    if password != password.strip():
        return "must not start or end with spaces"
    return None


# --- session cookie values ------------------------------------------------------------


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


def session_id_hash(session_id: str) -> str:
    """What the database stores for a session: a copy of the table opens no session."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _session_signature(secret: bytes, session_id: str, expires: int) -> str:
    message = f"greenweb-session-v1|{session_id}|{expires}".encode()
    return _b64(hmac.new(secret, message, hashlib.sha256).digest())


def sign_session(secret: bytes, session_id: str, expires: int) -> str:
    """The cookie value: ``session_id.expires.signature``."""
    return f"{session_id}.{expires}.{_session_signature(secret, session_id, expires)}"


_SESSION_VALUE = re.compile(r"^([A-Za-z0-9_-]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


def read_session(secret: bytes, value: str | None, now: float) -> str | None:
    """The session id of a signed, unexpired cookie value, or None.

    Checked before any database lookup, so tampered or stale cookies cost one HMAC.
    """
    if not value:
        return None
    match = _SESSION_VALUE.match(value)
    if match is None:
        return None
    session_id, expires_raw, signature = match.groups()
    expected = _session_signature(secret, session_id, int(expires_raw))
    if not hmac.compare_digest(expected, signature):
        return None
    if int(expires_raw) <= now:
        return None
    return session_id
