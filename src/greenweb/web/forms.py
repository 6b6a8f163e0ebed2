"""What every form POST goes through before its handler does anything.

The order is the write path of ARCHITECTURE.md: size limit (the request limits middleware,
web/limits.py, before the app) -> same-origin check -> form token -> honeypot -> (the
handler validates) -> rate limit -> one transaction -> 303.
Each step refuses with its own status and an Italian message, and none writes anything.

Pages that carry a form token, a session or anything else about the visitor are sent with
``Cache-Control: no-store``: the page cache and every browser and proxy then keep them to
themselves, so no token is ever served to two visitors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import parse_qsl, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request

from greenweb import security
from greenweb.config import Settings
from greenweb.web.middleware import limits

MAX_FIELDS = 100
NO_STORE = {"Cache-Control": "no-store"}
HONEYPOT = "sito_web"
TOKEN_FIELD = "token"


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

    Parsing only: the request limits in front of the app (web/limits.py) have already
    refused a body over ``GREENWEB_MAX_BODY_BYTES`` (413), a malformed length (400) and a
    form body that is not ASCII percent-encoding of NUL-free UTF-8 (400), and hand over
    the body they read. There is one size limit, and it is theirs.
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


def check_same_origin(request: Request, settings: Settings) -> None:
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


def check_honeypot(form: Form) -> None:
    if form.get(HONEYPOT):
        refuse(400, "Il modulo contiene un campo che deve restare vuoto: ricarica la pagina.")


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def now(request: Request) -> float:
    clock = request.app.state.clock
    value: float = clock()
    return value


@dataclass(frozen=True)
class Tokens:
    """Issues form tokens for one request (templates call it with the form name)."""

    secret: bytes
    now: float
    binding: str = ""

    def __call__(self, form: str) -> str:
        return security.issue_token(self.secret, form, self.now, binding=self.binding)


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
