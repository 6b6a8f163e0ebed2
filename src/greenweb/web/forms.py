"""The form gate: what every form POST goes through before its handler does anything.

The order is the write path of ARCHITECTURE.md: size limit (the request limits middleware,
web/middleware/limits.py, before the app) -> same-origin check -> form token -> honeypot
-> (the handler validates) -> rate limit -> one transaction -> 303. :func:`admit` runs the
steps up to the honeypot; :meth:`Admitted.consume` spends the token inside the handler's
write transaction.

Each step refuses with its own status and an Italian message (a 4xx page), and none writes
anything. One kind of failure is *recoverable* instead: a token the person can do nothing
about but wait or send again (too young, expired, or any problem on the login page) raises
:class:`Recoverable`, and the handler shows the form again with what was typed and the
message. :class:`TokenRules` says, for visitors', moderators' and the login form, which
problems those are and how old a token may be.

Pages that carry a form token, a session or anything else about the visitor are sent with
``Cache-Control: no-store``: the page cache and every browser and proxy then keep them to
themselves, so no token is ever served to two visitors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import parse_qsl, urlsplit

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request

from greenweb import security
from greenweb.config import Settings
from greenweb.security import FormToken, RateRule, TokenError, TokenProblem
from greenweb.web.middleware import limits
from greenweb.web.site import site_of

MAX_FIELDS = 100
NO_STORE = {"Cache-Control": "no-store"}
HONEYPOT = "sito_web"
TOKEN_FIELD = "token"
RESUBMITTED = "Questo modulo è già stato inviato: ricarica la pagina."


def refuse(status: int, message: str, headers: dict[str, str] | None = None) -> NoReturn:
    """Stop the request with an Italian error page that no cache keeps."""
    raise HTTPException(status, message, headers={**NO_STORE, **(headers or {})})


class Form:
    """The fields of an urlencoded body. A field sent twice is refused, not guessed at."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str) -> str | None:
        values = self.getlist(name)
        if len(values) > 1:
            refuse(400, "Il modulo contiene due volte lo stesso campo.")
        return values[0] if values else None

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def __contains__(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)


async def read_form(request: Request) -> Form:
    """Parse the urlencoded body of a form POST.

    Parsing only: the request limits in front of the app (web/middleware/limits.py) have
    already refused a body over ``GREENWEB_MAX_BODY_BYTES`` (413), a malformed length
    (400) and a form body that is not ASCII percent-encoding of NUL-free UTF-8 (400), and
    hand over the body they read. There is one size limit, and it is theirs.
    """
    if not limits.body_checked(request.scope):
        # Without the middleware nothing would bound the body: fail loudly, not open.
        raise RuntimeError("read_form needs RequestLimitsMiddleware in front of the app")
    content_type = request.headers.get("content-type", "")
    if limits.media_type(content_type) != limits.FORM_MEDIA_TYPE:
        refuse(415, "Il modulo deve essere inviato come application/x-www-form-urlencoded.")
    charset = content_type.partition(";")[2].strip().lower()
    if charset and charset.replace(" ", "") not in {"charset=utf-8", 'charset="utf-8"'}:
        refuse(415, "Il modulo deve essere codificato in UTF-8.")
    body = await request.body()
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:  # the limits let no such body through; never guess
        refuse(400, limits.BAD_FORM)
    except ValueError:
        refuse(400, "Il modulo contiene troppi campi.")
    return Form(pairs)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _check_same_origin(request: Request, settings: Settings) -> None:
    """Refuse POSTs that a browser reports as sent from another site.

    ``Sec-Fetch-Site`` is trusted when present; otherwise a present ``Origin`` must be this
    site's (its public base URL, or the address the request came to). Clients that send
    neither (old browsers, scripts) still need a valid form token.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site.lower() not in {"same-origin", "none"}:
            refuse(403, "Questo modulo si può inviare solo da una pagina di questo sito.")
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    allowed = {_origin_of(settings.base_url), _origin_of(str(request.base_url))}
    if origin.lower() not in allowed:
        refuse(403, "Questo modulo si può inviare solo da una pagina di questo sito.")


def _check_honeypot(form: Form) -> None:
    if form.get(HONEYPOT):
        refuse(400, "Il modulo contiene un campo che deve restare vuoto: ricarica la pagina.")


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def client_hash(request: Request, purpose: str) -> str:
    """The client's keyed hash for one purpose (``vote:12``, ``rate``, ``login``): rate
    limits and votes count clients without keeping an address."""
    secret = site_of(request).settings.secret_bytes
    return security.client_hash(secret, client_address(request), purpose)


@dataclass(frozen=True)
class Tokens:
    """Issues form tokens for one request (templates call it with the form name)."""

    secret: bytes
    now: float
    binding: str = ""

    @classmethod
    def of(cls, request: Request, *, binding: str = "") -> Tokens:
        """The tokens of the page this request renders; ``binding``: a moderator's session."""
        site = site_of(request)
        return cls(site.settings.secret_bytes, site.clock(), binding)

    def __call__(self, form: str) -> str:
        return security.issue_token(self.secret, form, self.now, binding=self.binding)


@dataclass(frozen=True)
class TokenRules:
    """What one family of forms asks of its token, and how it answers a bad one."""

    min_age: float
    max_age: float
    # Problems that give the form back with a message instead of a 4xx page.
    recoverable: frozenset[TokenProblem]
    # The 409 page's message for a form sent a second time.
    resubmitted: str
    honeypot: bool

    @classmethod
    def visitors(cls, settings: Settings) -> TokenRules:
        """The public forms: a minimum age against bots, and a honeypot. A token merely
        too young or too old gives the form back with the text kept."""
        return cls(
            min_age=settings.token_min_age,
            max_age=settings.token_max_age,
            recoverable=frozenset({TokenProblem.EXPIRED, TokenProblem.TOO_YOUNG}),
            resubmitted=security.TOKEN_MESSAGES[TokenProblem.USED],
            honeypot=True,
        )

    @classmethod
    def moderators(cls, settings: Settings) -> TokenRules:
        """Moderators are people behind a login, not bots: no minimum age. A token lives
        as long as a session can, so a long answer is never lost to an expired form."""
        return cls(
            min_age=0,
            max_age=settings.session_max_age,
            recoverable=frozenset(),
            resubmitted=RESUBMITTED,
            honeypot=False,
        )

    @classmethod
    def login(cls, settings: Settings) -> TokenRules:
        """The login form: any token problem shows the form again, name kept."""
        return cls(
            min_age=0,
            max_age=settings.token_max_age,
            recoverable=frozenset(TokenProblem),
            resubmitted=RESUBMITTED,
            honeypot=False,
        )


class Recoverable(Exception):
    """The token failed in a way the person can recover from: show the form again, with
    what they typed (``form``) and ``message``, answered with ``status_code``."""

    status_code = 403

    def __init__(self, form: Form, problem: TokenProblem, sent_token: str | None) -> None:
        super().__init__(problem.value)
        self.form = form
        self.problem = problem
        self.sent_token = sent_token

    @property
    def message(self) -> str:
        return security.TOKEN_MESSAGES[self.problem]


@dataclass(frozen=True)
class Admitted:
    """A form through the gate: its fields and its checked, not yet spent, token."""

    form: Form
    token: FormToken
    sent_token: str | None  # as sent: a form shown again (preview, errors) keeps it
    rules: TokenRules
    moment: float  # the site's clock when the form came in

    async def consume(self, conn: aiosqlite.Connection) -> None:
        """Spend the token inside the handler's write transaction; 409 if it was spent.

        The nonce insert is what guarantees one use: of two identical submissions one
        commits, the other is refused here and its transaction rolls back.
        """
        try:
            await security.consume_nonce(conn, self.token, self.moment, max_age=self.rules.max_age)
        except TokenError:
            refuse(409, self.rules.resubmitted)


async def read_same_origin_form(request: Request) -> Form:
    """The form's fields, once the browser says it comes from a page of this site."""
    form = await read_form(request)
    _check_same_origin(request, site_of(request).settings)
    return form


async def admit(
    request: Request, rules: TokenRules, form_name: str, *, binding: str = ""
) -> Admitted:
    """Origin, token (signature, form, age, not used yet) and honeypot of a form POST.

    Refuses with a 4xx page, or raises :class:`Recoverable` for the problems ``rules``
    lets the person recover from. ``binding`` ties the token to a moderator's session.
    """
    site = site_of(request)
    form = await read_same_origin_form(request)
    sent = form.get(TOKEN_FIELD)
    moment = site.clock()
    try:
        token = security.verify_token(
            site.settings.secret_bytes,
            sent,
            form_name,
            moment,
            min_age=rules.min_age,
            max_age=rules.max_age,
            binding=binding,
        )
        # A cheap early answer for a resubmitted form; Admitted.consume is the guarantee.
        if await security.nonce_used(site.db.reader, token.nonce):
            raise TokenError(TokenProblem.USED)
    except TokenError as error:
        if error.problem in rules.recoverable:
            raise Recoverable(form, error.problem, sent) from None
        if error.problem is TokenProblem.USED:
            refuse(409, rules.resubmitted)
        refuse(403, error.message)
    if rules.honeypot:
        _check_honeypot(form)
    return Admitted(form, token, sent, rules, moment)


@asynccontextmanager
async def visitor_write(
    request: Request, admitted: Admitted, rule: RateRule
) -> AsyncIterator[aiosqlite.Connection]:
    """The write transaction of a visitor's form: the rate limit counts it and the token is
    spent before the caller writes, all or nothing. Raises RateLimited."""
    async with site_of(request).db.transaction() as conn:
        await security.hit_rate(conn, client_hash(request, "rate"), rule, admitted.moment)
        await admitted.consume(conn)
        yield conn


def wait_phrase(seconds: int) -> str:
    """'2 minuti', '1 ora e 5 minuti', '40 secondi': how long to wait, in Italian."""
    if seconds < 60:
        return "1 secondo" if seconds == 1 else f"{seconds} secondi"
    minutes = -(-seconds // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append("1 ora" if hours == 1 else f"{hours} ore")
    if minutes:
        parts.append("1 minuto" if minutes == 1 else f"{minutes} minuti")
    return " e ".join(parts)


def too_many(retry_after: int, what: str) -> NoReturn:
    """429 with Retry-After and a page that says how long to wait."""
    refuse(
        429,
        f"{what} Riprova tra {wait_phrase(retry_after)}.",
        {"Retry-After": str(retry_after)},
    )
